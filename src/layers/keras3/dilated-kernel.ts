import tf from '#tfjs';

const product = (dims: readonly number[]): number => dims.reduce((n, d) => n * d, 1);

/**
 * A kernel [k1, .., kn, a, b] with `rates[i] - 1` zeros between the taps of spatial axis i:
 * [(k1 - 1) * r1 + 1, .., a, b]. tfjs-core cannot differentiate dilated convolutions (its conv2d,
 * conv3d and depthwise gradients assert dilations of 1); a convolution with the zero-filled kernel
 * computes the same sums, 'same' padding included (TensorFlow pads for the dilated extent), and has
 * gradients.
 */
export function dilatedKernel(kernel: tf.Tensor, rates: readonly number[]): tf.Tensor {
  let spread = kernel;
  rates.forEach((rate, axis) => {
    if (rate === 1) return;
    const shape = spread.shape;
    const taps = shape[axis]!;
    // Seen as [before, taps, 1, after]: each tap followed by rate - 1 zeros, the zeros after the
    // last tap cut off. Rank 4 whatever the kernel's rank: tfjs-backend-webgl 4.22's packed pad
    // fails to compile its shader for rank 5.
    const [before, after] = [product(shape.slice(0, axis)), product(shape.slice(axis + 1))];
    const padded = tf.pad(tf.reshape(spread, [before, taps, 1, after]), [[0, 0], [0, 0], [0, rate - 1], [0, 0]]);
    const length = (taps - 1) * rate + 1;
    const cut = tf.slice(tf.reshape(padded, [before, taps * rate, after]), [0, 0, 0], [before, length, after]);
    spread = tf.reshape(cut, shape.map((d, i) => (i === axis ? length : d)));
  });
  return spread;
}
