import tf from '#tfjs';
import { tfMoments } from './moments.js';

/**
 * Keras 3's layer normalization (ops.layer_normalization) in tfjs operations, over `axes` (biased
 * variance): inv = rsqrt(var + epsilon) * gamma, out = x * inv + (beta - mean * inv). gamma and
 * beta, when given, are shaped like the input along `axes`; they broadcast, nothing is tiled to the
 * input's shape. Under a tape, its gradients are tfjs-core's gradients of these operations.
 */
export function normalizeWithOperations(x: tf.Tensor, axes: readonly number[], epsilon: number, gamma: tf.Tensor | null, beta: tf.Tensor | null): tf.Tensor {
  return tf.tidy(() => {
    const sorted = [...axes].sort((a, b) => a - b);
    const broadcast = x.shape.map((d, a) => (sorted.includes(a) ? d : 1));
    const { mean, variance } = tfMoments(x, sorted, true);
    let inv = tf.rsqrt(tf.add(variance, epsilon));
    if (gamma) inv = tf.mul(inv, tf.reshape(gamma, broadcast));
    let shift = tf.mul(tf.neg(mean), inv);
    if (beta) shift = tf.add(shift, tf.reshape(beta, broadcast));
    return tf.add(tf.mul(x, inv), shift);
  });
}
