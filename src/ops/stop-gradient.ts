import tf from '#tfjs';

/**
 * TensorFlow's tf.stop_gradient, which tfjs 4.22 lacks: a copy of x whose gradient is zeros, so
 * the backward pass treats it as a constant where TensorFlow does.
 */
export const stopGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
  value: tf.clone(args[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor),
})) as (x: tf.Tensor) => tf.Tensor;
