import { BackendError } from '../errors.js';
import { backendDescriptor, registeredBackends } from './backend-registry.js';
import './descriptors/index.js';

/** A backend that cannot run in this process: unknown, not installed, or failing to initialize. */
export class BackendUnavailableError extends BackendError {
  constructor(
    readonly backend: string,
    readonly reason: string,
  ) {
    super(`backend '${backend}' is unavailable: ${reason}. ${whatToDo(backend)}`);
  }
}

/** The backend's own install hint; for an unknown name, the registered ones. */
function whatToDo(backend: string): string {
  return backendDescriptor(backend)?.installHint ?? `Choose one of ${registeredBackends().map((d) => d.name).join(', ')}.`;
}
