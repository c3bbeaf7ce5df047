import tf from '#tfjs';
import type { ComposedCompute, KernelRunner } from './composed-kernel.js';
import { pool3DGeometry, pool3DInfo, span, type PoolGeometry } from './avg-pool-grad.js';
import { depthSplit, placeAlongDepth, type DepthSplit } from './depth-taps.js';

/*
 * 3D pooling on wasm from 2D kernels. A 3D window is a depth interval times a plane rectangle, so
 * its maximum is the maximum over its depth interval of each slice's 2D maximum: a 2D pooling of
 * every depth slice's plane (the slices as a batch of images), then a 2D pooling of [kd, 1]
 * windows down the depth axis of [batch, depth, 1, oh·ow·channels], both XNNPACK's. Average
 * pooling's gradient spreads back over each slice's plane windows, then down the depth axis.
 * tfjs-backend-wasm's own MaxPool3D is wrong on windows of negative values and its AvgPool3DGrad
 * under 'same' padding (docs/wasm-kernels.md); the exact ones ran on the host. NDHWC float32;
 * other cases return undefined and take the host's. (MaxPool3DGrad: max-pool-3d-grad.ts.)
 */

/** The pooling's split into depth and planes (depth-taps.ts), with its geometry as avg-pool-grad.ts's loops read it. */
function geometry(xShape: readonly number[], attrs: tf.NamedAttrMap): (DepthSplit & { pool: PoolGeometry }) | undefined {
  if (xShape.length !== 5) return undefined;
  const format = attrs['dataFormat'];
  if (format !== undefined && format !== 'NDHWC') return undefined;
  const info = pool3DInfo(xShape, attrs);
  const split = depthSplit(info);
  return split && { ...split, pool: pool3DGeometry(info) };
}

/** The pooling of each depth slice's plane: [b·depth, h, w, c] windows of [kh, kw]. */
function planeAttrs(g: DepthSplit): tf.NamedAttrMap {
  return { ...g.plane };
}

/** The pooling down the depth axis of [b, depth, 1, oh·ow·c]: windows of [kd, 1]. */
function depthAttrs(g: DepthSplit, filterDepth: number): tf.NamedAttrMap {
  return { filterSize: [filterDepth, 1], strides: [g.strideDepth, 1], pad: [[0, 0], [g.front, g.back], [0, 0], [0, 0]] };
}

/** Each depth slice's 2D maxima: [b·depth, oh, ow, c]. */
function planeMaxima(r: KernelRunner, x: tf.TensorInfo, g: DepthSplit): tf.TensorInfo {
  return r.run('MaxPool', { x: r.reshape(x, [g.batch * g.depth, g.height, g.width, g.channels]) }, planeAttrs(g));
}

/** The depth axis of a [b, depth, oh, ow, c]-sized tensor as [b, depth, 1, oh·ow·c], the layout the depth step pools. */
function alongDepth(r: KernelRunner, t: tf.TensorInfo, g: DepthSplit, depth: number): tf.TensorInfo {
  return r.reshape(t, [g.batch, depth, 1, g.outHeight * g.outWidth * g.channels]);
}

export const maxPool3DByPlanes: ComposedCompute = (inputs, attrs, r) => {
  const x = inputs['x'];
  if (!x || x.dtype !== 'float32') return undefined;
  const g = geometry(x.shape, attrs);
  if (!g) return undefined;
  const planes = planeMaxima(r, x, g);
  const pooled = r.run('MaxPool', { x: alongDepth(r, planes, g, g.depth) }, depthAttrs(g, g.filterDepth));
  return r.reshape(pooled, [g.batch, g.outDepth, g.outHeight, g.outWidth, g.channels]);
};

/**
 * Each output's gradient shared among the elements its window covers inside the input, as
 * TensorFlow shares it: dy divided by each window's count (the product of its in-bounds depth,
 * row and column spans), spread back over each slice's plane windows (a depthwise input gradient
 * by a filter of ones), then laid at every depth its window covers (one placement per depth tap).
 */
export const avgPool3DGradByPlanes: ComposedCompute = (inputs, attrs, r) => {
  const dy = inputs['dy'];
  const x = inputs['input'];
  if (!dy || !x || dy.dtype !== 'float32') return undefined;
  const g = geometry(x.shape, attrs);
  if (!g || dy.shape.join() !== [g.batch, g.outDepth, g.outHeight, g.outWidth, g.channels].join()) return undefined;
  const [kh, kw] = g.plane.filterSize;
  // 1 / each window's count (its in-bounds depth, rows and columns), one per output position: [1, od, oh, ow, 1], broadcast over the batch and channels.
  const extent = (o: number, axis: 0 | 1 | 2) => {
    const [start, end] = span(o, axis, g.pool);
    return end - start;
  };
  const reciprocals = new Float32Array(g.outDepth * g.outHeight * g.outWidth);
  for (let od = 0, i = 0; od < g.outDepth; od++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      for (let ow = 0; ow < g.outWidth; ow++) reciprocals[i++] = 1 / (extent(od, 0) * extent(oh, 1) * extent(ow, 2));
    }
  }
  const shared = r.run('Multiply', { a: dy, b: r.constant(reciprocals, [1, g.outDepth, g.outHeight, g.outWidth, 1], 'float32') });
  const ones = r.constant(new Float32Array(kh * kw * g.channels).fill(1), [kh, kw, g.channels, 1], 'float32');
  const planes = r.run(
    'DepthwiseConv2dNativeBackpropInput',
    { dy: r.reshape(shared, [g.batch * g.outDepth, g.outHeight, g.outWidth, g.channels]), filter: ones },
    { strides: g.plane.strides, pad: g.plane.pad, dataFormat: 'NHWC', dilations: [1, 1], inputShape: [g.batch * g.outDepth, g.height, g.width, g.channels] },
  );
  const rest = g.height * g.width * g.channels;
  const taps: tf.TensorInfo[] = [];
  const perSlice = r.reshape(planes, [g.batch, g.outDepth, rest]);
  for (let k = 0; k < g.filterDepth; k++) taps.push(placeAlongDepth(r, perSlice, g.strideDepth, k - g.front, g.depth));
  const sum = taps.length === 1 ? taps[0]! : r.run('AddN', taps);
  return r.reshape(sum, x.shape);
};
