import * as tf from '@tensorflow/tfjs';
import type { ComposedCompute, KernelRunner } from './composed-kernel.js';

/**
 * MaxPoolGrad from the backend's own kernels (wasm's is wrong on all-negative windows, and the
 * host fallback copies every input to JavaScript: 0.4 s of ResNet50's backward pass at batch 1).
 * Each output's gradient goes to the first element of its window, in row-major order, that equals
 * the window's maximum (the forward output), as TensorFlow's and tfjs's cpu kernels do. For each
 * window offset (i, j): the input elements at that offset of every window (a strided slice of the
 * input, padded with -Infinity where 'same' pads), which of them equal the maximum and were not
 * claimed by an earlier offset, the incoming gradient there, spread back onto the input grid.
 * NHWC, no dilation; other cases return undefined and take the host kernel.
 */
export const maxPoolGrad: ComposedCompute = (inputs, attrs, r) => {
  const dy = inputs['dy']!;
  const x = inputs['input']!;
  const y = inputs['output']!;
  if (x.dtype !== 'float32' || x.shape.length !== 4) return undefined;
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs['filterSize'] as number | [number, number],
    attrs['strides'] as number | [number, number],
    1,
    attrs['pad'] as 'valid' | 'same' | number,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
  );
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const { top, left } = info.padInfo;
  if (top < 0 || left < 0) return undefined;
  // The padded grid every window reads: rows top .. top + h hold x, the rest -Infinity (never a
  // maximum); sh - 1 rows (sw - 1 columns) past the last window, so that every offset's rows
  // i .. i + oh·sh fit, and the gradient is accumulated on the same grid.
  const [ha, wa] = [kh - 1 + oh * sh, kw - 1 + ow * sw];
  const xp = r.padOrCut(x, [top, ha - h - top], [left, wa - w - left], -Infinity);
  const zeros = r.constant(new Float32Array(b * oh * ow * c), [b, oh, ow, c], 'float32');
  let taken: tf.TensorInfo | undefined;
  let sum: tf.TensorInfo | undefined;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const atOffset = everyStride(r, xp, i, j, oh, ow, sh, sw);
      const isMax = r.run('Equal', { a: atOffset, b: y });
      const first = taken ? r.run('LogicalAnd', { a: isMax, b: r.run('LogicalNot', { x: taken }) }) : isMax;
      taken = taken ? r.run('LogicalOr', { a: taken, b: isMax }) : isMax;
      const gradient = r.run('Select', { condition: first, t: dy, e: zeros });
      const placed = r.padOrCut(r.spread(gradient, sh, sw), [i, ha - i - oh * sh], [j, wa - j - ow * sw]);
      sum = sum ? r.run('Add', { a: sum, b: placed }) : placed;
    }
  }
  // Back from the padded grid to the input's (input rows no window read, under 'valid', get zeros).
  const grid = r.padOrCut(sum!, [0, top + h - ha], [0, left + w - wa]);
  return r.slice(grid, [0, top, left, 0], [b, h, w, c]);
};

/**
 * grid[:, i :: sh, j :: sw, :] for oh rows and ow columns: [b, oh, ow, c]. From rank-2 and rank-3
 * slices of reshaped views, which tfjs-backend-wasm copies row by row: its StridedSlice took
 * 25 ms per offset of ResNet50's max pooling, most of the gradient's time.
 */
function everyStride(r: KernelRunner, grid: tf.TensorInfo, i: number, j: number, oh: number, ow: number, sh: number, sw: number): tf.TensorInfo {
  const [b, , gw, c] = grid.shape as [number, number, number, number];
  // Rows i, i + sh, ...: the first of each group of sh rows.
  const rows = r.slice(grid, [0, i, 0, 0], [b, oh * sh, gw, c]);
  const firstRows = sh === 1 ? rows : r.slice(r.reshape(rows, [b * oh, sh, gw * c]), [0, 0, 0], [b * oh, 1, gw * c]);
  // Columns j, j + sw, ...: the first of each group of sw columns.
  const columns = r.slice(r.reshape(firstRows, [b * oh, gw, c]), [0, j, 0], [b * oh, ow * sw, c]);
  const firstColumns = sw === 1 ? columns : r.slice(r.reshape(columns, [b * oh * ow, sw * c]), [0, 0], [b * oh * ow, c]);
  return r.reshape(firstColumns, [b, oh, ow, c]);
}
