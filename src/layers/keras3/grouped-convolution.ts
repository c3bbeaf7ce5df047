import tf from '#tfjs';
import { dilatedKernel } from './dilated-kernel.js';

/** How a grouped convolution slides: one entry per spatial axis. */
export interface ConvolutionGeometry {
  strides: number[];
  padding: 'valid' | 'same';
  dilations: number[];
}

/**
 * Keras 3's grouped convolution (tf.nn.convolution with a kernel of in_channels // groups input
 * channels): a channels-last input [batch, ..spatial, in] and a kernel [..k, in / groups, filters];
 * output channel f sees input channels g * in / groups .. (g + 1) * in / groups - 1 only, where
 * g = floor(f / (filters / groups)). tfjs has no grouped convolution, so each group is convolved on
 * its own and the results concatenated; where each group is one input channel (the depthwise case,
 * ConvNeXt's) in 1 or 2 dimensions, one tf.depthwiseConv2d computes them all. Dilation is spelled
 * out in the kernel (dilatedKernel), so that tfjs can differentiate it.
 */
export function groupedConvolution(x: tf.Tensor, kernel: tf.Tensor, groups: number, geometry: ConvolutionGeometry): tf.Tensor {
  const rank = kernel.rank - 2;
  if (rank === 1) {
    // A sequence as an image of height 1, as Keras's other 1D layers that tfjs lacks run here.
    const image = { padding: geometry.padding, strides: [1, geometry.strides[0]!], dilations: [1, geometry.dilations[0]!] };
    return tf.squeeze(groupedConvolution(tf.expandDims(x, 1), tf.expandDims(kernel, 0), groups, image), [1]);
  }
  const spread = dilatedKernel(kernel, geometry.dilations);
  const perGroup = spread.shape[rank]!;
  if (rank === 2 && perGroup === 1) return depthwise(x as tf.Tensor4D, spread, groups, geometry);
  const inputs = tf.split(x, groups, rank + 1);
  const kernels = tf.split(spread, groups, rank + 1);
  return tf.concat(inputs.map((input, g) => convolve(input, kernels[g]!, geometry)), rank + 1);
}

/**
 * groups == in_channels: Keras's kernel [kh, kw, 1, channels * multiplier] holds output channel
 * c * multiplier + m in column c * multiplier + m, as tf.depthwiseConv2d's [kh, kw, channels,
 * multiplier] does once reshaped.
 */
function depthwise(x: tf.Tensor4D, kernel: tf.Tensor, groups: number, geometry: ConvolutionGeometry): tf.Tensor {
  const [kh, kw, , filters] = kernel.shape as [number, number, number, number];
  const filter = tf.reshape(kernel, [kh, kw, groups, filters / groups]) as tf.Tensor4D;
  return tf.depthwiseConv2d(x, filter, geometry.strides as [number, number], geometry.padding);
}

/** One group's convolution, dilation already in the kernel. */
function convolve(x: tf.Tensor, kernel: tf.Tensor, { strides, padding }: ConvolutionGeometry): tf.Tensor {
  if (kernel.rank === 4) return tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, strides as [number, number], padding);
  return tf.conv3d(x as tf.Tensor5D, kernel as tf.Tensor5D, strides as [number, number, number], padding);
}
