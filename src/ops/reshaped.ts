import tf from '#tfjs';

/**
 * `t` in `shape`; `t` itself where it has that shape already: a Reshape is a kernel call (a
 * TensorFlow op on the tensorflow backend), and under a tape one more step of the backward pass.
 */
export function reshaped(t: tf.Tensor, shape: readonly number[]): tf.Tensor {
  return tf.util.arraysEqual(t.shape, shape as number[]) ? t : tf.reshape(t, shape as number[]);
}
