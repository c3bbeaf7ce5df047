import tf from '#tfjs';
import { SOFTMAX_GRADIENT_KERNEL } from './heap-softmax-gradient.js';
import { tapeRecording } from '../../engine/tape-recording.js';

/**
 * Softmax's gradient, tfjs-core's (dy·y − sum(dy·y)·y along `dim`), run as one kernel,
 * KerasBridgeSoftmaxGrad, where the backend has it (wasm: kernel-fixes/heap-softmax-gradient.ts,
 * the same values) for float32 over the last axis, and where no tape records the backward pass.
 * Elsewhere tfjs-core's operations, as before (tfjs-core 4.22 cannot take a second derivative
 * through softmax with them either).
 */
export const softmaxGradient: tf.GradConfig = {
  kernelName: 'Softmax',
  outputsToSave: [true],
  gradFunc: (incoming, saved, attrs) => {
    const dy = incoming as tf.Tensor;
    const [y] = saved as [tf.Tensor];
    const dim = attrs['dim'] as number;
    const last = dim === -1 || dim === y.rank - 1;
    if (last && y.dtype === 'float32' && tapeRecording() === false && tf.getKernel(SOFTMAX_GRADIENT_KERNEL, tf.getBackend())) {
      return { logits: () => tf.engine().runKernel(SOFTMAX_GRADIENT_KERNEL, { dy, y }) as tf.Tensor };
    }
    const products = tf.mul(dy, y);
    return { logits: () => tf.sub(products, tf.mul(tf.sum(products, [dim], true), y)) };
  },
};
