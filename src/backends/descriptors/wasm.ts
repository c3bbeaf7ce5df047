import { registerBackendDescriptor } from '../backend-registry.js';

export const wasmBackend = registerBackendDescriptor({
  name: 'wasm',
  kind: 'node',
  description: 'XNNPACK in WebAssembly (@tensorflow/tfjs-backend-wasm) in this process, a thread per core (KERAS_BRIDGE_WASM_THREADS)',
  tfjsBackend: 'wasm',
  // Imported when first used, so that descriptors stay cheap to load (and loadable in a page).
  register: async () => (await import('../wasm.js')).registerWasm(),
  details: async () => (await import('../wasm.js')).describeWasmThreading(),
  kernelFixes: 'wasm',
  toleranceFloor: null,
  installHint: 'Run `npm run setup` to install what is missing.',
});
