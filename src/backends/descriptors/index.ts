// The built-in backends. Each file registers its descriptor on import; the order of these imports
// is the order the CLI lists and tries them, so a new backend goes last.
export { cpuBackend } from './cpu.js';
export { wasmBackend } from './wasm.js';
export { tensorflowBackend } from './tensorflow.js';
export { chromiumCpuBackend } from './chromium-cpu.js';
export { chromiumWasmBackend } from './chromium-wasm.js';
export { chromiumWebglBackend } from './chromium-webgl.js';
export { chromiumWebglF16Backend } from './chromium-webgl-f16.js';
export { chromiumWebgpuBackend } from './chromium-webgpu.js';
export { webgpuBackend } from './webgpu.js';
