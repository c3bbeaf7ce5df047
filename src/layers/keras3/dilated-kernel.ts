import * as tf from '@tensorflow/tfjs';

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
    // Each tap followed by rate - 1 zeros, then the zeros after the last tap cut off.
    const padding = shape.map((): [number, number] => [0, 0]);
    padding.splice(axis + 1, 0, [0, rate - 1]);
    const padded = tf.pad(tf.expandDims(spread, axis + 1), padding);
    const merged = [...shape];
    merged[axis] = taps * rate;
    const size = [...shape];
    size[axis] = (taps - 1) * rate + 1;
    spread = tf.slice(tf.reshape(padded, merged), shape.map(() => 0), size);
  });
  return spread;
}
