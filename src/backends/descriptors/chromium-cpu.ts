import { registerBackendDescriptor } from '../backend-registry.js';
import { CHROMIUM_INSTALL_HINT } from './chromium-install-hint.js';

export const chromiumCpuBackend = registerBackendDescriptor({
  name: 'chromium-cpu',
  kind: 'browser',
  description: "tfjs's JavaScript kernels in a headless Chromium page",
  tfjsBackend: 'cpu',
  tfjsFlags: {},
  importMap: {},
  pageSetup: [],
  chromiumArgs: [],
  kernelFixes: 'cpu',
  toleranceFloor: null,
  installHint: CHROMIUM_INSTALL_HINT,
});
