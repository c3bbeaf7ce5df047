import { registerBackendDescriptor } from '../backend-registry.js';

export const cpuBackend = registerBackendDescriptor({
  name: 'cpu',
  kind: 'node',
  description: "tfjs's plain JavaScript kernels, in this process",
  tfjsBackend: 'cpu',
  // @tensorflow/tfjs registers it on import.
  register: () => Promise.resolve(),
  kernelFixes: 'cpu',
  toleranceFloor: null,
  installHint: 'Run `npm run setup` to install what is missing.',
});
