import tf from '#tfjs';
import type { ComposedCompute } from './composed-kernel.js';
import { depthSplit, placeAlongDepth, takeAlongDepth, type DepthSplit } from './depth-taps.js';

/*
 * A 3D convolution's gradients on wasm as 2D ones, one per depth tap of the kernel: tap k of a
 * [kd, kh, kw, ci, co] kernel is a 2D convolution by its [kh, kw, ci, co] slice between input depth
 * i·stride + k - front and output depth i, over every slice's plane (the slices as a batch of
 * images). The 2D gradients run as the backend's kernels (on wasm, keras-bridge's compositions over
 * XNNPACK and its SIMD kernels: conv-backprop-composed.ts); the depth axis is only slices, zeros
 * and sums. tfjs-backend-wasm's own Conv3DBackpropInputV2 and Conv3DBackpropFilterV2 are wrong
 * (docs/wasm-kernels.md), and the exact ones ran on the host: the inputs read out of wasm, tfjs's
 * cpu loops, the result written back. NDHWC float32 (tfjs's conv3d has no other); other cases
 * return undefined and take the host's.
 */

/** The convolution's split into depth and planes (depth-taps.ts), with its output channels. */
function geometry(xShape: readonly number[], filterShape: readonly number[], attrs: tf.NamedAttrMap): (DepthSplit & { outChannels: number }) | undefined {
  if (xShape.length !== 5 || filterShape.length !== 5) return undefined;
  const info = tf.backend_util.computeConv3DInfo(
    xShape as [number, number, number, number, number],
    filterShape as [number, number, number, number, number],
    attrs['strides'] as [number, number, number] | number,
    1,
    attrs['pad'] as 'valid' | 'same',
  );
  const split = depthSplit(info);
  return split && { ...split, outChannels: info.outChannels };
}

/** The 2D kernels' attributes for one depth tap, over the batch of slices. */
function planeAttrs(g: DepthSplit): tf.NamedAttrMap {
  return { strides: g.plane.strides, pad: g.plane.pad, dataFormat: 'NHWC', dilations: [1, 1] };
}

/** dx: per depth tap k, the 2D input gradient by the kernel's slice k, laid at input depth i·stride + k - front, summed over the taps. */
export const conv3DBackpropInputByDepthTaps: ComposedCompute = (inputs, attrs, r) => {
  const dy = inputs['dy'];
  const filter = inputs['filter'];
  const inputShape = attrs['inputShape'] as number[];
  if (!dy || !filter || dy.dtype !== 'float32' || filter.dtype !== 'float32') return undefined;
  const g = geometry(inputShape, filter.shape, attrs);
  if (!g) return undefined;
  const [kd, kh, kw, ci, co] = filter.shape as [number, number, number, number, number];
  const { batch: n, depth, height, width, outDepth, outHeight, outWidth } = g;
  if (dy.shape.join() !== [n, outDepth, outHeight, outWidth, co].join()) return undefined;
  const slices = r.reshape(dy, [n * outDepth, outHeight, outWidth, co]);
  const taps: tf.TensorInfo[] = [];
  for (let k = 0; k < kd; k++) {
    const kernel = r.reshape(r.slice(filter, [k, 0, 0, 0, 0], [1, kh, kw, ci, co]), [kh, kw, ci, co]);
    const planes = r.run('Conv2DBackpropInput', { dy: slices, filter: kernel }, { ...planeAttrs(g), inputShape: [n * outDepth, height, width, ci] });
    taps.push(placeAlongDepth(r, r.reshape(planes, [n, outDepth, height * width * ci]), g.strideDepth, k - g.front, depth));
  }
  const sum = taps.length === 1 ? taps[0]! : r.run('AddN', taps);
  return r.reshape(sum, [n, depth, height, width, ci]);
};

/** dW: per depth tap k, the 2D filter gradient between the input slices at i·stride + k - front and the output slices i. */
export const conv3DBackpropFilterByDepthTaps: ComposedCompute = (inputs, attrs, r) => {
  const x = inputs['x'];
  const dy = inputs['dy'];
  const filterShape = attrs['filterShape'] as number[];
  if (!x || !dy || x.dtype !== 'float32' || dy.dtype !== 'float32') return undefined;
  const g = geometry(x.shape, filterShape, attrs);
  if (!g) return undefined;
  const [kd, kh, kw, ci, co] = filterShape as [number, number, number, number, number];
  const { batch: n, depth, height, width, outDepth, outHeight, outWidth } = g;
  if (x.shape[4] !== ci || dy.shape.join() !== [n, outDepth, outHeight, outWidth, co].join()) return undefined;
  const volume = r.reshape(x, [n, depth, height * width * ci]);
  const slices = r.reshape(dy, [n * outDepth, outHeight, outWidth, co]);
  const taps: tf.TensorInfo[] = [];
  for (let k = 0; k < kd; k++) {
    const read = r.reshape(takeAlongDepth(r, volume, g.strideDepth, k - g.front, outDepth), [n * outDepth, height, width, ci]);
    const gradient = r.run('Conv2DBackpropFilter', { x: read, dy: slices }, { ...planeAttrs(g), filterShape: [kh, kw, ci, co] });
    taps.push(r.reshape(gradient, [1, kh, kw, ci, co]));
  }
  return taps.length === 1 ? taps[0]! : r.run('Concat', taps, { axis: 0 });
};
