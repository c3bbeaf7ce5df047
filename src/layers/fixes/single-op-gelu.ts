import tf from '#tfjs';
import { GELU_GRADIENT_KERNEL, GELU_KERNEL } from '../../backends/kernel-fixes/heap-gelu.js';
import { patchRegisteredClass } from './patch-registered-class.js';
import { tapeRecording } from '../../engine/tape-recording.js';

type Apply = (this: unknown, x: tf.Tensor) => tf.Tensor;

const PATCHED = Symbol.for('keras-bridge.single-op-gelu');

/** tfjs-core's gradient of tfjs-layers' composition, in differentiable operations: for a gradient that is itself recorded (a second derivative). */
function composedGeluGradient(x: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const u = tf.div(x, Math.SQRT2);
    const throughProduct = tf.mul(dy, tf.mul(0.5, tf.add(1, tf.erf(u))));
    const erfSlope = tf.mul(tf.exp(tf.neg(tf.square(u))), 2 / Math.sqrt(Math.PI));
    return tf.add(throughProduct, tf.div(tf.mul(tf.mul(tf.mul(dy, x), 0.5), erfSlope), Math.SQRT2));
  });
}

/**
 * GELU as KerasBridgeGelu with KerasBridgeGeluGradient as its gradient: under a tape, one kernel
 * forward and one backward where the composition records five and runs ten, keeping only x for the
 * backward pass (the composition keeps three more tensors of its size). Both give the
 * composition's values bit for bit (kernel-fixes/heap-gelu.ts).
 */
const geluWithGradient = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: tf.engine().runKernel(GELU_KERNEL, { x }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const input = saved[0]!;
      // A tape records this backward pass (a gradient of a gradient): operations it can differentiate.
      if (tapeRecording() !== false) return composedGeluGradient(input, dy);
      return tf.engine().runKernel(GELU_GRADIENT_KERNEL, { x: input, dy }) as tf.Tensor;
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

/** Whether the backend has both of keras-bridge's GELU kernels (wasm, registerKernelFixes). */
function hasGeluKernels(): boolean {
  const backend = tf.getBackend();
  return tf.getKernel(GELU_KERNEL, backend) !== undefined && tf.getKernel(GELU_GRADIENT_KERNEL, backend) !== undefined;
}

/**
 * Exact GELU (the `gelu` activation: Keras's approximate=False, a Transformer's feed-forward layer)
 * as one kernel where the backend has keras-bridge's KerasBridgeGelu (wasm, registerKernelFixes:
 * kernel-fixes/heap-gelu.ts), the same values as tfjs-layers' five operations in one pass. Under a
 * gradient tape, with KerasBridgeGeluGradient as its gradient (geluWithGradient): the same values
 * as tfjs-core's gradients of those operations, bit for bit. Elsewhere (other backends, other
 * dtypes) tfjs-layers' own apply runs. Installed once, when keras-bridge's runtime is imported.
 */
function installSingleOpGelu(): void {
  patchRegisteredClass<{ apply: Apply }>('gelu', PATCHED, (activation) => {
    const apply = activation.apply;
    activation.apply = function (this: unknown, x: tf.Tensor) {
      if (x.dtype !== 'float32' || !hasGeluKernels()) return apply.call(this, x);
      const taped = tapeRecording();
      if (taped === undefined) return apply.call(this, x);
      return taped ? geluWithGradient(x) : (tf.engine().runKernel(GELU_KERNEL, { x }) as tf.Tensor);
    };
  });
}

installSingleOpGelu();
