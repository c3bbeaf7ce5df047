export { activeBackendName } from './active-backend.js';
export {
  BROWSER_BACKENDS,
  KNOWN_BACKENDS,
  NODE_BACKENDS,
  browserTfjsBackend,
  isBackendName,
  isBrowserBackend,
  type BackendName,
  type BrowserBackendName,
  type NodeBackendName,
} from './backend-names.js';
export { BackendUnavailableError } from './backend-unavailable-error.js';
export { readNativeBuildStatus, type NativeBuildStatus } from './native-build-status.js';
export { probeBackend, useBackend, type BackendProbe } from './select-backend.js';
