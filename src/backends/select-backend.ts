import tf from '#tfjs';
import { activeBackendName } from './active-backend.js';
import { existsSync } from 'node:fs';
import { isBrowserBackend, nodeBackend, type NodeBackendName } from './backend-names.js';
import { BackendUnavailableError } from './backend-unavailable-error.js';
import { registerKernelFixes } from './kernel-fixes/index.js';
import { guardWasmHeap } from './wasm-heap-guard.js';
import { errorMessage } from '../errors.js';

/** Whether a backend can run here and, when it cannot, why (as plain data for reports). */
export interface BackendProbe {
  name: string;
  available: boolean;
  reason?: string;
  /** What it runs on, when available and its descriptor says (NodeBackendDescriptor.details). */
  details?: string;
}

/** Makes `name` the active tfjs backend; throws BackendUnavailableError when it cannot run here. */
export async function useBackend(name: NodeBackendName): Promise<void> {
  const descriptor = nodeBackend(name);
  if (!descriptor) throw new BackendUnavailableError(name, isBrowserBackend(name) ? 'it runs in Chromium, not in this process' : 'it is not a backend keras-bridge knows');
  await descriptor.register();
  registerKernelFixes(descriptor.tfjsBackend, descriptor.kernelFixes);
  const tfjsName = descriptor.tfjsBackend;
  let initialized: boolean;
  try {
    initialized = await tf.setBackend(tfjsName);
  } catch (error) {
    throw new BackendUnavailableError(name, `initializing it failed: ${errorMessage(error)}`);
  }
  if (!initialized) throw new BackendUnavailableError(name, 'tfjs could not initialize it');
  await tf.ready();
  if (tf.getBackend() !== tfjsName) throw new BackendUnavailableError(name, `tfjs reports '${tf.getBackend()}' as the active backend instead`);
  guardWasmHeap(tf.backend());
}

/**
 * Tries a backend with a small matMul, then puts back the backend that was active before (if one
 * was). Never throws.
 */
export async function probeBackend(name: string): Promise<BackendProbe> {
  if (isBrowserBackend(name)) return probeChromium(name);
  const previous = activeBackendName();
  try {
    await useBackend(name as NodeBackendName);
    // Read asynchronously: GPU backends in Node have no synchronous read (webgpu's needs OffscreenCanvas).
    const product = tf.tidy(() => tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])));
    try {
      await product.data();
    } finally {
      product.dispose();
    }
    const details = await backendDetails(name);
    return { name, available: true, ...(details ? { details } : {}) };
  } catch (error) {
    return { name, available: false, reason: error instanceof BackendUnavailableError ? error.reason : errorMessage(error) };
  } finally {
    if (previous !== undefined && previous !== activeBackendName()) await tf.setBackend(previous);
  }
}

/** What a started Node backend runs on (its descriptor's details()); undefined for the rest. */
export async function backendDetails(name: string): Promise<string | undefined> {
  return isBrowserBackend(name) ? undefined : nodeBackend(name as NodeBackendName)?.details?.();
}

/** Browser backends need Debian's chromium; whether the page's backend works shows in the run. */
function probeChromium(name: string): BackendProbe {
  const chromium = process.env['KERAS_BRIDGE_CHROMIUM'] ?? '/usr/bin/chromium';
  return existsSync(chromium)
    ? { name, available: true }
    : { name, available: false, reason: `Chromium not found at ${chromium} (apt-get install -y chromium, or set KERAS_BRIDGE_CHROMIUM)` };
}
