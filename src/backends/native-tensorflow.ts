import * as tf from '@tensorflow/tfjs';
import { activeBackendName } from './active-backend.js';
import { BackendUnavailableError } from './backend-unavailable-error.js';
import { readNativeBuildStatus } from './native-build-status.js';

// A variable rather than a literal so that tsc does not resolve this optional dependency: its
// binding only exists once scripts/build-native-backend.mjs has built it.
const TFJS_NODE: string = '@tensorflow/tfjs-node';

let registration: Promise<void> | undefined;

/**
 * Registers tfjs-node's `tensorflow` backend into the @tensorflow/tfjs that keras-bridge uses,
 * loading libtensorflow on the first call only. Does not change the active backend.
 */
export function registerNativeTensorflow(): Promise<void> {
  registration ??= importTfjsNode();
  return registration;
}

async function importTfjsNode(): Promise<void> {
  // libtensorflow reads it when it loads; without it every process prints TensorFlow's info logs.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '3';
  const previous = activeBackendName();
  try {
    await import(TFJS_NODE);
  } catch (error) {
    throw new BackendUnavailableError('tensorflow', whyNotLoaded(error));
  }
  if (tf.findBackendFactory('tensorflow') == null) {
    throw new BackendUnavailableError(
      'tensorflow',
      '@tensorflow/tfjs-node registered itself into another copy of @tensorflow/tfjs-core than the one keras-bridge uses ' +
        '(two versions in node_modules; `npm ls @tensorflow/tfjs-core` shows them)',
    );
  }
  // Importing tfjs-node makes 'tensorflow' the active backend as a side effect; undo that.
  if (previous !== undefined && previous !== tf.getBackend()) await tf.setBackend(previous);
}

function whyNotLoaded(error: unknown): string {
  const status = readNativeBuildStatus();
  if (status && !status.ok) return `its build failed at step "${status.step}": ${status.reason}`;
  const code = (error as { code?: unknown }).code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return '@tensorflow/tfjs-node (an optional dependency) is not installed';
  const message = error instanceof Error ? error.message : String(error);
  if (message.includes('tfjs_binding.node') && message.includes('can not be found')) return 'its native binding tfjs_binding.node has not been built';
  return `loading @tensorflow/tfjs-node failed: ${message.split('\n')[0]}`;
}
