import { registerBackendDescriptor } from '../backend-registry.js';

export const webgpuBackend = registerBackendDescriptor({
  name: 'webgpu',
  kind: 'node',
  description: "tfjs's WebGPU compute shaders in this process, on the GPU Dawn's Node binding finds (npm package webgpu; Vulkan)",
  tfjsBackend: 'webgpu',
  register: async () => (await import('../webgpu-dawn.js')).registerDawnWebgpu(),
  details: async () => {
    const adapter = (await import('../webgpu-dawn.js')).dawnAdapterDescription();
    return adapter === undefined ? undefined : `adapter ${adapter}`;
  },
  optional: true,
  // Its shaders that are wrong above rank 4, as one rank-3 call per axis (kernel-fixes/rank-reduced.ts).
  kernelFixes: 'webgpu',
  // The same shaders as chromium-webgpu, so the same floor (docs/tolerances.md).
  toleranceFloor: { atol: 2e-5, rtol: 1e-4 },
  installHint:
    'It is optional: `npm install webgpu@0.6.2` (Dawn, prebuilt for Linux, macOS and Windows) and a Vulkan driver ' +
    "(libvulkan1 with the GPU vendor's driver; mesa-vulkan-drivers 24 or later gives lavapipe on a CPU); see docs/backends.md.",
});
