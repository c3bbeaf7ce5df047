import tf from '#tfjs';
import { stopGradient } from '../../ops/stop-gradient.js';
import { einsum } from './einsum.js';

/**
 * tfjs-converter's executor runs a TensorFlow graph with tfjs ops; where a tfjs op disagrees with
 * TensorFlow's, the graph op is registered here with a fix (tf.registerOp: the executor asks its
 * registered ops first, for every GraphModel of the process).
 *
 * Cumsum: tf.cumsum(x, -1) in tfjs 4.22 returns an empty tensor (its kernels use a negative axis
 * as is), where TensorFlow counts it from the end (tf.math.cumsum(x, axis=-1), measured in
 * graph-fallback.test.ts). The fix normalizes the axis; everything else is tf.cumsum as the
 * converter calls it, so its gradient is tfjs's own.
 *
 * SquaredDifference: tfjs 4.22's gradient does not sum over broadcast dimensions (its gradient
 * for `b` of shape [1,1,8] against `a` of [1,5,8] has a's shape, and the backward pass throws);
 * LayerNormalization's variance in a graph (tf.nn.moments) is one. The fix computes
 * (a - b)^2 with tfjs's sub and square, whose gradients reduce broadcasts.
 *
 * StopGradient: tfjs-converter runs it as a copy, so gradients flow through it where TensorFlow's
 * are zero. The fix returns a copy whose gradient is zeros.
 *
 * Einsum: tfjs 4.22's Einsum kernel has no gradient and no wasm implementation (attention
 * layers' EinsumDense and score products trace to it). The fix runs it as transposes, reshapes and
 * a batched matMul (einsum.ts), which every backend runs and differentiates.
 */
let registered = false;

export function registerGraphOpFixes(): void {
  if (registered) return;
  registered = true;
  tf.registerOp('Cumsum', (node) => {
    const [x, axisTensor] = node.inputs as [tf.Tensor, tf.Tensor];
    const axis = axisTensor.dataSync()[0]!;
    const attrs = node.attrs as { exclusive?: boolean; reverse?: boolean };
    return tf.cumsum(x, axis < 0 ? axis + x.rank : axis, attrs.exclusive ?? false, attrs.reverse ?? false);
  });
  tf.registerOp('SquaredDifference', (node) => {
    const [a, b] = node.inputs as [tf.Tensor, tf.Tensor];
    return tf.square(tf.sub(a, b));
  });
  tf.registerOp('StopGradient', (node) => stopGradient(node.inputs[0] as tf.Tensor));
  tf.registerOp('Einsum', (node) => einsum((node.attrs as { equation: string }).equation, node.inputs as tf.Tensor[]));
}
