import tf from '#tfjs';

/**
 * The gradient of Cumsum (tf.cumsum, keras.ops.cumsum). tfjs-core 4.22's transposes its result
 * with the forward permutation whenever the axis is not the last one, so it fails ("The gradient
 * of input 'x' has shape ...") or, on square shapes, returns a transposed gradient. The gradient
 * of a cumulative sum along an axis is the cumulative sum of the incoming gradient along the same
 * axis in the other direction, which tf.cumsum computes for any axis.
 */
export const cumsumGradient: tf.GradConfig = {
  kernelName: 'Cumsum',
  gradFunc: (incoming, _saved, attrs) => {
    const dy = incoming as tf.Tensor;
    const axis = attrs['axis'] as number;
    const exclusive = attrs['exclusive'] as boolean;
    const reverse = attrs['reverse'] as boolean;
    return { x: () => tf.cumsum(dy, axis, exclusive, !reverse) };
  },
};
