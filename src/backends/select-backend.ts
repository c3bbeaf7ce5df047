import * as tf from '@tensorflow/tfjs';
import { activeBackendName } from './active-backend.js';
import type { BackendName } from './backend-names.js';
import { BackendUnavailableError } from './backend-unavailable-error.js';
import { registerNativeTensorflow } from './native-tensorflow.js';
import { registerWasm } from './wasm.js';
import { registerKernelFixes } from './wasm-gradient-kernels/index.js';

/** Whether a backend can run here and, when it cannot, why (as plain data for reports). */
export interface BackendProbe {
  name: string;
  available: boolean;
  reason?: string;
}

/** Makes `name` the active tfjs backend; throws BackendUnavailableError when it cannot run here. */
export async function useBackend(name: BackendName): Promise<void> {
  await registerBackend(name);
  registerKernelFixes(name);
  let initialized: boolean;
  try {
    initialized = await tf.setBackend(name);
  } catch (error) {
    throw new BackendUnavailableError(name, `initializing it failed: ${describe(error)}`);
  }
  if (!initialized) throw new BackendUnavailableError(name, 'tfjs could not initialize it');
  await tf.ready();
  if (tf.getBackend() !== name) throw new BackendUnavailableError(name, `tfjs reports '${tf.getBackend()}' as the active backend instead`);
}

/**
 * Tries a backend with a small matMul, then puts back the backend that was active before (if one
 * was). Never throws.
 */
export async function probeBackend(name: string): Promise<BackendProbe> {
  const previous = activeBackendName();
  try {
    await useBackend(name as BackendName);
    tf.tidy(() => tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).dataSync());
    return { name, available: true };
  } catch (error) {
    return { name, available: false, reason: error instanceof BackendUnavailableError ? error.reason : describe(error) };
  } finally {
    if (previous !== undefined && previous !== activeBackendName()) await tf.setBackend(previous);
  }
}

function registerBackend(name: string): Promise<void> {
  switch (name) {
    case 'cpu':
      return Promise.resolve(); // @tensorflow/tfjs registers it on import
    case 'wasm':
      return registerWasm();
    case 'tensorflow':
      return registerNativeTensorflow();
    default:
      return Promise.reject(new BackendUnavailableError(name, 'it is not a backend keras-bridge knows'));
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
