import * as tf from '@tensorflow/tfjs';
import { GELU_KERNEL } from '../../backends/kernel-fixes/heap-gelu.js';
import { patchRegisteredClass } from './patch-registered-class.js';

type Apply = (this: unknown, x: tf.Tensor) => tf.Tensor;

const PATCHED = Symbol.for('keras-bridge.single-op-gelu');

/** The engine's state this reads: whether a gradient tape records the operations that run. */
interface RecordingEngine {
  isTapeOn?: () => boolean;
}

/**
 * Exact GELU (the `gelu` activation: Keras's approximate=False, a Transformer's feed-forward layer)
 * as one kernel where the backend has keras-bridge's KerasBridgeGelu (wasm, registerKernelFixes:
 * kernel-fixes/heap-gelu.ts), the same values as tfjs-layers' five operations in one pass. Only
 * where no gradient tape records: under a tape, tfjs-layers' composition runs as before, so that
 * the backward pass keeps tfjs-core's gradients of those operations and their rounding. Elsewhere
 * (other backends, other dtypes) tfjs-layers' own apply runs. Installed once, when keras-bridge's
 * runtime is imported.
 */
function installSingleOpGelu(): void {
  patchRegisteredClass<{ apply: Apply }>('gelu', PATCHED, (activation) => {
    const apply = activation.apply;
    activation.apply = function (this: unknown, x: tf.Tensor) {
      const engine = tf.engine() as unknown as RecordingEngine;
      if (x.dtype !== 'float32' || engine.isTapeOn?.() !== false || !tf.getKernel(GELU_KERNEL, tf.getBackend())) return apply.call(this, x);
      return tf.engine().runKernel(GELU_KERNEL, { x }) as tf.Tensor;
    };
  });
}

installSingleOpGelu();
