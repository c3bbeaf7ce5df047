import { registerBackendDescriptor } from '../backend-registry.js';
import { CHROMIUM_INSTALL_HINT } from './chromium-install-hint.js';

export const chromiumWebglBackend = registerBackendDescriptor({
  name: 'chromium-webgl',
  kind: 'browser',
  description: 'WebGL2 shaders with float32 textures in headless Chromium (SwiftShader when there is no GPU)',
  tfjsBackend: 'webgl',
  tfjsFlags: {},
  importMap: {},
  pageSetup: [],
  // WebGL through SwiftShader needs src/browser/chromium.ts's base arguments only.
  chromiumArgs: [],
  kernelFixes: null,
  toleranceFloor: null,
  installHint: CHROMIUM_INSTALL_HINT,
});
