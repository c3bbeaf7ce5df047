import { registerBackendDescriptor } from '../backend-registry.js';
import { CHROMIUM_INSTALL_HINT } from './chromium-install-hint.js';

const WEBGPU_BUNDLE = '/node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.fesm.js';

export const chromiumWebgpuBackend = registerBackendDescriptor({
  name: 'chromium-webgpu',
  kind: 'browser',
  description: "WebGPU compute shaders in headless Chromium (SwiftShader's Vulkan when there is no GPU)",
  tfjsBackend: 'webgpu',
  tfjsFlags: {},
  // The ES bundle registers 'webgpu' into tfjs's bundle on import, but only where navigator.gpu exists.
  importMap: { '@tensorflow/tfjs-backend-webgpu': WEBGPU_BUNDLE },
  // This file is browser-safe: the page imports it for requireWebGpu, which names what is missing
  // (tfjs would only say that no backend 'webgpu' is registered).
  pageSetup: [
    { module: '/dist/src/backends/descriptors/chromium-webgpu.js', call: 'requireWebGpu' },
    { module: '@tensorflow/tfjs-backend-webgpu' },
  ],
  // WebGPU is behind --enable-unsafe-webgpu on Linux; without a GPU, SwiftShader's Vulkan is its adapter.
  chromiumArgs: ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader'],
  // Its shaders that are wrong above rank 4, as one rank-3 call per axis (kernel-fixes/rank-reduced.ts).
  kernelFixes: 'webgpu',
  // Float32, but its worst passing tensor on the layer zoo needed atol 4.0e-6 at rtol 1e-4 (a 7x7
  // depthwise kernel's gradient; cpu needs 6.2e-7 there): 5x headroom (docs/tolerances.md). Its
  // kernel bugs are off by 0.06 to 22 and still fail.
  toleranceFloor: { atol: 2e-5, rtol: 1e-4 },
  installHint: `${CHROMIUM_INSTALL_HINT} WebGPU needs a Chromium with WebGPU on Linux (Debian's chromium 120 or later) and a page served over http://127.0.0.1 (a secure context).`,
});

interface GpuLike {
  requestAdapter(): Promise<unknown>;
}

/** Runs in the page: throws, naming what is missing, unless WebGPU has an adapter here. */
export async function requireWebGpu(): Promise<void> {
  const gpu = (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu) {
    const secure = (globalThis as { isSecureContext?: boolean }).isSecureContext;
    throw new Error(
      `WebGPU is unavailable: navigator.gpu is missing (${secure ? 'the page is a secure context, so this Chromium has WebGPU off or lacks it' : 'the page is not a secure context'})`,
    );
  }
  if (!(await gpu.requestAdapter())) {
    throw new Error('WebGPU is unavailable: navigator.gpu.requestAdapter() found no adapter (WebGPU is off in this Chromium, or it has neither a GPU nor SwiftShader Vulkan)');
  }
}
