export { activeBackendName } from './active-backend.js';
export type { BackendDescriptor, BrowserBackendDescriptor, NodeBackendDescriptor, PageSetupStep } from './backend-descriptor.js';
export { backendDescriptor, registerBackendDescriptor, registeredBackends } from './backend-registry.js';
export {
  BROWSER_BACKENDS,
  KNOWN_BACKENDS,
  NODE_BACKENDS,
  browserBackend,
  browserTfjsBackend,
  describeBackends,
  isBackendName,
  isBrowserBackend,
  nodeBackend,
  type BackendName,
  type BrowserBackendName,
  type NodeBackendName,
} from './backend-names.js';
export { BackendUnavailableError } from './backend-unavailable-error.js';
export { readNativeBuildStatus, type NativeBuildStatus } from './native-build-status.js';
export { backendDetails, probeBackend, useBackend, type BackendProbe } from './select-backend.js';
