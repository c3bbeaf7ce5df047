import tf from '#tfjs';

/**
 * `predicate(x)`, a bool tensor, that autodiff treats as a constant, as TensorFlow does. tfjs
 * registers no gradient for comparison kernels (Greater, LessEqual, …) and refuses to
 * backpropagate through a graph that has one between the input and the loss; computed inside
 * customGrad, the comparison stays off the tape and contributes a zero gradient.
 */
export function constantCondition(x: tf.Tensor, predicate: (x: tf.Tensor) => tf.Tensor): tf.Tensor {
  const asFloat = tf.customGrad((input) => {
    const t = input as tf.Tensor;
    return { value: tf.cast(predicate(t), 'float32'), gradFunc: () => tf.zeros(t.shape) };
  });
  return tf.cast(asFloat(x), 'bool');
}
