import { BackendError } from '../errors.js';
import { KNOWN_BACKENDS, isBackendName } from './backend-names.js';

/** A backend that cannot run in this process: unknown, not installed, or failing to initialize. */
export class BackendUnavailableError extends BackendError {
  constructor(
    readonly backend: string,
    readonly reason: string,
  ) {
    super(`backend '${backend}' is unavailable: ${reason}. ${whatToDo(backend)}`);
  }
}

function whatToDo(backend: string): string {
  if (backend === 'tensorflow') {
    return (
      'The native backend is built by `npm run setup`, or on its own by `node scripts/build-native-backend.mjs` ' +
      '(see docs/native-backend.md); backends wasm and cpu work without it.'
    );
  }
  if (isBackendName(backend)) return 'Run `npm run setup` to install what is missing.';
  return `Choose one of ${KNOWN_BACKENDS.join(', ')}.`;
}
