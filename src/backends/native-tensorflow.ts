import tf from '#tfjs';
import { activeBackendName } from './active-backend.js';
import { BackendUnavailableError } from './backend-unavailable-error.js';
import { defaultEnvironment } from './environment-defaults.js';
import { readNativeBuildStatus, type NativeBuildStatus } from './native-build-status.js';

// Variables rather than literals so that tsc does not resolve these optional dependencies: their
// bindings only exist once built (scripts/build-native-backend.mjs) or installed by the user.
// A user's tfjs-node-gpu wins over tfjs-node; KERAS_BRIDGE_TFJS_NODE names another package.
const TFJS_NODE_PACKAGES: string[] = process.env['KERAS_BRIDGE_TFJS_NODE']
  ? [process.env['KERAS_BRIDGE_TFJS_NODE']]
  : ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

let registration: Promise<void> | undefined;
/** The tfjs-node package that registered the backend (its `node` namespace loads SavedModels). */
let loaded: unknown;

/** What keras-bridge uses of tfjs-node beyond its backend: running a SavedModel natively. */
export interface TfjsNodeSavedModels {
  node: {
    loadSavedModel(path: string, tags: string[], signature: string): Promise<{
      predict(inputs: tf.NamedTensorMap): tf.NamedTensorMap | tf.Tensor | tf.Tensor[];
      dispose(): void;
    }>;
  };
}

/** tfjs-node itself, registering its backend first (BackendUnavailableError when it cannot load). */
export async function tfjsNode(): Promise<TfjsNodeSavedModels> {
  await registerNativeTensorflow();
  return loaded as TfjsNodeSavedModels;
}

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
  // TensorFlow's oneDNN ops, which it leaves off by default on CPUs without AVX-512 VNNI, BF16 or
  // AMX: without them its CPU matrix products run on Eigen with oneDNN's sgemm, which corrupts the
  // heap when the thread running it takes a signal on its own stack. Node's sampling profiler
  // (node --cpu-prof, and the continuous profilers built on it) sends the main thread one every
  // millisecond: 1,200 products under it aborted with TF_ENABLE_ONEDNN_OPTS=0 and survived with
  // oneDNN on (docs/native-backend.md, "Signals"). A user's own setting wins.
  // The Python exporter's Keras gets the user's setting, not this one (environment-defaults.ts).
  defaultEnvironment('TF_ENABLE_ONEDNN_OPTS', '1');
  const previous = activeBackendName();
  await importFirstInstalled();
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

/** Imports the first of TFJS_NODE_PACKAGES that is installed; its failure to load is the reason. */
async function importFirstInstalled(): Promise<void> {
  let lastError: unknown;
  for (const name of TFJS_NODE_PACKAGES) {
    try {
      loaded = await import(name);
      return;
    } catch (error) {
      lastError = error;
      if (!isNotInstalled(error)) break;
    }
  }
  throw new BackendUnavailableError('tensorflow', whyTensorflowNotLoaded(lastError));
}

function isNotInstalled(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** Why loading tfjs-node failed with `error`, in words, from what the last native build recorded. */
export function whyTensorflowNotLoaded(error: unknown, status: NativeBuildStatus | undefined = readNativeBuildStatus()): string {
  if (status && !status.ok) return `its build failed at step "${status.step}": ${status.reason}`;
  if (status?.nodeAbi && status.nodeAbi !== process.versions.modules) {
    return `its binding was built by another Node (ABI ${status.nodeAbi}; this one is ${process.versions.modules}, ${process.version}): run \`npm run setup\` to rebuild it`;
  }
  if (isNotInstalled(error)) return `none of ${TFJS_NODE_PACKAGES.join(', ')} is installed (@tensorflow/tfjs-node is an optional dependency)`;
  const message = error instanceof Error ? error.message : String(error);
  if (message.includes('tfjs_binding.node') && message.includes('can not be found')) return 'its native binding tfjs_binding.node has not been built';
  return `loading @tensorflow/tfjs-node failed: ${message.split('\n')[0]}`;
}
