export { activeBackendName } from './active-backend.js';
export { KNOWN_BACKENDS, isBackendName, type BackendName } from './backend-names.js';
export { BackendUnavailableError } from './backend-unavailable-error.js';
export { readNativeBuildStatus, type NativeBuildStatus } from './native-build-status.js';
export { probeBackend, useBackend, type BackendProbe } from './select-backend.js';
