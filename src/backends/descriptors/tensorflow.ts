import { registerBackendDescriptor } from '../backend-registry.js';

export const tensorflowBackend = registerBackendDescriptor({
  name: 'tensorflow',
  kind: 'node',
  description: "libtensorflow's own kernels via @tensorflow/tfjs-node (built by npm run setup)",
  tfjsBackend: 'tensorflow',
  // Loads libtensorflow on first use only; src/backends never imports tfjs-node eagerly.
  register: async () => (await import('../native-tensorflow.js')).registerNativeTensorflow(),
  // TensorFlow's single ops where tfjs-node composes several (activation gradients, Step).
  kernelFixes: 'tensorflow',
  toleranceFloor: null,
  installHint:
    'The native backend is built by `npm run setup`, or on its own by `node scripts/build-native-backend.mjs` ' +
    '(see docs/native-backend.md); backends wasm and cpu work without it.',
});
