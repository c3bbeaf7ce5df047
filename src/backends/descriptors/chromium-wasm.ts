import { registerBackendDescriptor } from '../backend-registry.js';
import { CHROMIUM_INSTALL_HINT } from './chromium-install-hint.js';

const WASM_DIST = '/node_modules/@tensorflow/tfjs-backend-wasm/dist/';

export const chromiumWasmBackend = registerBackendDescriptor({
  name: 'chromium-wasm',
  kind: 'browser',
  description: 'XNNPACK in WebAssembly in a headless Chromium page, one thread per core (a cross-origin isolated page)',
  tfjsBackend: 'wasm',
  tfjsFlags: {},
  // The ES bundle registers 'wasm' into tfjs's bundle (one tfjs-core instance) on import.
  importMap: { '@tensorflow/tfjs-backend-wasm': `${WASM_DIST}tf-backend-wasm.fesm.js` },
  // In a page the bundle cannot find its .wasm files beside itself: tell it where they are served;
  // and one XNNPACK thread per core, where tfjs would take half (src/browser/page-wasm-threads.ts).
  pageSetup: [
    { module: '@tensorflow/tfjs-backend-wasm', call: 'setWasmPaths', args: [WASM_DIST] },
    { module: '/dist/src/browser/page-wasm-threads.js', call: 'useEveryCore' },
  ],
  chromiumArgs: [],
  kernelFixes: 'wasm',
  toleranceFloor: null,
  installHint: CHROMIUM_INSTALL_HINT,
});
