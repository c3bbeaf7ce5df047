import tf from '#tfjs';
import { dilatedKernel } from './dilated-kernel.js';
import type { DataFormat } from './spatial-axes.js';
import { badField, type NamedLayer } from '../layer-errors.js';

export type { DataFormat };

// What Keras 3's 1D convolutions that tfjs-layers lacks (Conv1DTranspose, SeparableConv1D,
// DepthwiseConv1D) share: they run as tfjs 2D convolutions over a height of 1, channels last.

export type Padding = 'valid' | 'same';

/** Keras writes kernel_size, strides and dilation_rate of a 1D layer as one-element lists. */
export function single(value: number | number[] | undefined, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  return Array.isArray(value) ? value[0]! : value;
}

/** [batch, channels, length] ↔ [batch, length, channels]; the identity for channels last. */
export function toChannelsLast(x: tf.Tensor, dataFormat: DataFormat): tf.Tensor {
  return dataFormat === 'channelsFirst' ? tf.transpose(x, [0, 2, 1]) : x;
}
export const fromChannelsLast = toChannelsLast;

/** The input's channel count and length, from a [batch, ..] shape in `dataFormat`. */
export function channelsAndLength(layer: NamedLayer, shape: tf.Shape, dataFormat: DataFormat): { channels: number; length: number | null } {
  const [channels, length] = dataFormat === 'channelsFirst' ? [shape[1], shape[2]] : [shape[2], shape[1]];
  if (channels === null || channels === undefined) throw badField(layer, 'data_format', `the channel axis (${dataFormat}) of the input must have a known size`);
  return { channels, length: length ?? null };
}

/** Keras's compute_conv_output_shape along one axis. */
export function convOutputLength(length: number | null, kernel: number, stride: number, padding: Padding, dilation: number): number | null {
  if (length === null) return null;
  const dilated = (kernel - 1) * dilation + 1;
  return padding === 'same' ? Math.floor((length - 1) / stride) + 1 : Math.floor((length - dilated) / stride) + 1;
}

/** [batch, length, channels] as [batch, 1, length, channels], and back. */
export const asImage = (x: tf.Tensor): tf.Tensor4D => tf.expandDims(x, 1) as tf.Tensor4D;
export const fromImage = (x: tf.Tensor): tf.Tensor3D => tf.squeeze(x, [1]) as tf.Tensor3D;

/** A 1D kernel [k, a, b] as a 2D kernel [1, (k - 1) * rate + 1, a, b], dilation spelled out as zeros (dilatedKernel). */
export function dilatedImageKernel(kernel: tf.Tensor, rate: number): tf.Tensor4D {
  return tf.expandDims(dilatedKernel(kernel, [rate]), 0) as tf.Tensor4D;
}

/** Adds the bias along the channel axis of a channels-last result. */
export function withBias(x: tf.Tensor, bias: tf.LayerVariable | null): tf.Tensor {
  return bias ? tf.add(x, bias.read()) : x;
}
