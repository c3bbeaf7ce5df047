import tf from '#tfjs';
import { activeBackendName } from './active-backend.js';
import { BackendUnavailableError } from './backend-unavailable-error.js';
import { errorMessage } from '../errors.js';

// A variable, not a literal, so that tsc does not resolve this optional dependency; the user
// installs it (`npm install webgpu`), or KERAS_BRIDGE_WEBGPU_MODULE names another copy of it.
const DAWN_MODULE: string = process.env['KERAS_BRIDGE_WEBGPU_MODULE'] ?? 'webgpu';

/** The part of Dawn's Node binding (npm package `webgpu`) keras-bridge uses. */
interface DawnBinding {
  create(flags: string[]): GpuEntry;
  /** GPUBufferUsage, GPUMapMode, ...: the globals tfjs's webgpu kernels read. */
  globals: Record<string, unknown>;
}

interface GpuEntry {
  requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapter | null>;
}

interface GpuAdapter {
  features: ReadonlySet<string>;
  limits: Record<string, number>;
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  requestDevice(descriptor: { requiredFeatures: string[]; requiredLimits: Record<string, number> }): Promise<unknown>;
}

/** tfjs's WebGPUBackend constructor, as the package's Node bundle exports it. */
type WebGpuBackendClass = new (device: unknown, adapterInfo: unknown) => tf.KernelBackend;

let registration: Promise<void> | undefined;
let adapterDescription: string | undefined;

/**
 * Registers tfjs's `webgpu` backend in this Node process on the GPU Dawn finds (Vulkan on Linux).
 * tfjs's own registration only runs where navigator.gpu exists, so keras-bridge registers the
 * backend itself, with the device tfjs asks for in a browser: its limits raised to the adapter's.
 */
export function registerDawnWebgpu(): Promise<void> {
  registration ??= register();
  return registration;
}

/** The adapter the backend runs on (vendor, architecture, device), once registered. */
export function dawnAdapterDescription(): string | undefined {
  return adapterDescription;
}

async function register(): Promise<void> {
  const dawn = await importDawn();
  const flags = (process.env['KERAS_BRIDGE_DAWN_FLAGS'] ?? '').split(/\s+/).filter(Boolean);
  const gpu = dawn.create(flags);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new BackendUnavailableError(
      'webgpu',
      "Dawn found no WebGPU adapter: it needs a Vulkan loader (libvulkan1) and a Vulkan driver: the GPU's own, or Mesa's lavapipe (mesa-vulkan-drivers 24 or later) on a CPU",
    );
  }
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  }
  const previous = activeBackendName();
  const { WebGPUBackend } = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as { WebGPUBackend: WebGpuBackendClass };
  const device = await adapter.requestDevice({
    requiredFeatures: ['timestamp-query'].filter((feature) => adapter.features.has(feature)),
    requiredLimits: pickLimits(adapter.limits, [
      'maxComputeWorkgroupStorageSize',
      'maxComputeWorkgroupsPerDimension',
      'maxStorageBufferBindingSize',
      'maxBufferSize',
      'maxComputeWorkgroupSizeX',
      'maxComputeInvocationsPerWorkgroup',
    ]),
  });
  exposeAsNavigatorGpu(gpu);
  const info = adapter.info ?? {};
  adapterDescription = [info.vendor, info.architecture, info.device, info.description].filter((part) => part).join(' / ') || 'unnamed adapter';
  // Where navigator.gpu exists, tfjs registered its own factory on import; this one replaces it.
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  // Priority 0: never tfjs's automatic choice; keras-bridge always selects backends by name.
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, info), 0);
  if (previous !== undefined && previous !== tf.getBackend()) await tf.setBackend(previous);
}

async function importDawn(): Promise<DawnBinding> {
  try {
    const binding = (await import(DAWN_MODULE)) as Partial<DawnBinding>;
    if (typeof binding.create !== 'function' || typeof binding.globals !== 'object') {
      throw new Error(`'${DAWN_MODULE}' does not export create() and globals`);
    }
    return binding as DawnBinding;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const notInstalled = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
    throw new BackendUnavailableError(
      'webgpu',
      notInstalled
        ? `the optional package '${DAWN_MODULE}' (Dawn's Node binding) is not installed`
        : `loading '${DAWN_MODULE}' failed: ${errorMessage(error)}`,
    );
  }
}

/** tfjs's WebGPUBackend refuses to start unless navigator.gpu exists, as in a browser. */
function exposeAsNavigatorGpu(gpu: GpuEntry): void {
  const scope = globalThis as { navigator?: { gpu?: unknown } };
  if (scope.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  }
  if (!scope.navigator?.gpu) Object.defineProperty(scope.navigator, 'gpu', { value: gpu, configurable: true });
}

function pickLimits(limits: Record<string, number>, names: string[]): Record<string, number> {
  const picked: Record<string, number> = {};
  for (const name of names) if (typeof limits[name] === 'number') picked[name] = limits[name];
  return picked;
}
