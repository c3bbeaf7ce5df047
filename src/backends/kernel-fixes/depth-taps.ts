import tf from '#tfjs';
import type { KernelRunner } from './composed-kernel.js';

/**
 * A 3D convolution's or pooling's geometry, split into its depth axis and its planes: the 3D
 * kernels keras-bridge composes on wasm (conv3d-by-depth-taps.ts, pool3d-by-planes.ts) run the
 * backend's 2D kernels over each depth slice's [height, width] plane (the slices as a batch of
 * images, padded as the 3D kernel pads them), and handle the depth axis themselves.
 */
export interface DepthSplit {
  batch: number;
  depth: number;
  height: number;
  width: number;
  /** The input's channels. */
  channels: number;
  outDepth: number;
  outHeight: number;
  outWidth: number;
  filterDepth: number;
  strideDepth: number;
  /** Depth positions before the input that the 3D kernel's padding adds. */
  front: number;
  back: number;
  /** The 2D kernels' attributes over each slice's plane. */
  plane: { filterSize: [number, number]; strides: [number, number]; pad: tf.backend_util.ExplicitPadding };
}

/**
 * The split of a 3D kernel whose geometry tfjs computed as `info` (NDHWC, dilations 1), or
 * undefined where its planes would not come out as the 3D kernel's: a 2D kernel given the same
 * padding explicitly must make the same output height and width (it does for 'same' and
 * 'valid'; a numeric pad rounded up may not).
 */
export function depthSplit(info: tf.backend_util.Conv3DInfo): DepthSplit | undefined {
  if (info.dataFormat !== 'channelsLast' || info.dilationDepth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  const { top, bottom, left, right, front, back } = info.padInfo;
  if ([top, bottom, left, right, front, back].some((p) => !(p >= 0))) return undefined;
  const plane = {
    filterSize: [info.filterHeight, info.filterWidth] as [number, number],
    strides: [info.strideHeight, info.strideWidth] as [number, number],
    pad: [[0, 0], [top, bottom], [left, right], [0, 0]] as tf.backend_util.ExplicitPadding,
  };
  const planeOut = (size: number, filter: number, stride: number, before: number, after: number) => Math.floor((size + before + after - filter) / stride) + 1;
  if (planeOut(info.inHeight, info.filterHeight, info.strideHeight, top, bottom) !== info.outHeight) return undefined;
  if (planeOut(info.inWidth, info.filterWidth, info.strideWidth, left, right) !== info.outWidth) return undefined;
  if (planeOut(info.inDepth, info.filterDepth, info.strideDepth, front, back) !== info.outDepth) return undefined;
  return {
    batch: info.batchSize,
    depth: info.inDepth,
    height: info.inHeight,
    width: info.inWidth,
    channels: info.inChannels,
    outDepth: info.outDepth,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    filterDepth: info.filterDepth,
    strideDepth: info.strideDepth,
    front,
    back,
    plane,
  };
}

/**
 * `t` [b, n, rest] laid along a depth axis of `length`: its i-th slice at depth i·stride + shift,
 * zeros between and around, slices that fall outside left out. The input gradient's step for one
 * depth tap (a tap k of a convolution padded by `front` at the front puts output slice i's
 * contribution at input depth i·stride + k - front).
 */
export function placeAlongDepth(r: KernelRunner, t: tf.TensorInfo, stride: number, shift: number, length: number): tf.TensorInfo {
  const [b, n, rest] = t.shape as [number, number, number];
  // Each slice followed by stride - 1 zero slices: slice i at i·stride.
  const spread = stride === 1 ? t : r.reshape(r.pad(r.reshape(t, [b, n, 1, rest]), [[0, 0], [0, 0], [0, stride - 1], [0, 0]]), [b, n * stride, rest]);
  return toLength(r, shifted(r, spread, shift), length);
}

/**
 * The `count` depth slices of `t` [b, depth, rest] at i·stride + shift (zeros where that is
 * outside t): what depth tap k of a convolution padded by `front` reads for output slice i, with
 * shift = k - front.
 */
export function takeAlongDepth(r: KernelRunner, t: tf.TensorInfo, stride: number, shift: number, count: number): tf.TensorInfo {
  const [b, , rest] = t.shape as [number, number, number];
  // Slice i·stride of the shifted tensor, for i < count: the first count·stride slices, every stride-th.
  const window = toLength(r, shifted(r, t, -shift), count * stride);
  if (stride === 1) return window;
  return r.reshape(r.slice(r.reshape(window, [b, count, stride, rest]), [0, 0, 0, 0], [b, count, 1, rest]), [b, count, rest]);
}

/** `t` [b, depth, rest] moved `shift` slices deeper: zeros before it where positive, its first slices cut where negative. */
function shifted(r: KernelRunner, t: tf.TensorInfo, shift: number): tf.TensorInfo {
  const [b, depth, rest] = t.shape as [number, number, number];
  if (shift >= 0) return r.pad(t, [[0, 0], [shift, 0], [0, 0]]);
  const kept = Math.max(0, depth + shift);
  return kept === 0 ? zeros(r, [b, 0, rest]) : r.slice(t, [0, -shift, 0], [b, kept, rest]);
}

/** `t` [b, depth, rest] cut or zero-padded at its end to `length` slices. */
function toLength(r: KernelRunner, t: tf.TensorInfo, length: number): tf.TensorInfo {
  const [b, depth, rest] = t.shape as [number, number, number];
  if (depth === length) return t;
  if (depth === 0) return zeros(r, [b, length, rest]);
  if (depth > length) return length === 0 ? zeros(r, [b, 0, rest]) : r.slice(t, [0, 0, 0], [b, length, rest]);
  return r.pad(t, [[0, 0], [0, length - depth], [0, 0]]);
}

function zeros(r: KernelRunner, shape: [number, number, number]): tf.TensorInfo {
  return r.constant(new Float32Array(shape[0] * shape[1] * shape[2]), shape, 'float32');
}
