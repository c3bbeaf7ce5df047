import { registerBackendDescriptor } from '../backend-registry.js';
import { CHROMIUM_INSTALL_HINT } from './chromium-install-hint.js';

export const chromiumWebglF16Backend = registerBackendDescriptor({
  name: 'chromium-webgl-f16',
  kind: 'browser',
  description: 'WebGL2 with float16 textures forced, as on GPUs (most phones) without float32 render targets',
  tfjsBackend: 'webgl',
  tfjsFlags: { WEBGL_FORCE_F16_TEXTURES: true },
  importMap: {},
  pageSetup: [],
  chromiumArgs: [],
  kernelFixes: null,
  // Float16 storage: measured atol 2.0e-3 at rtol 1e-2 on the fixture models; 5x headroom (docs/tolerances.md).
  toleranceFloor: { atol: 1e-2, rtol: 1e-2 },
  installHint: CHROMIUM_INSTALL_HINT,
});
