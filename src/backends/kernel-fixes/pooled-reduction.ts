import tf from '#tfjs';
import type { ComposedCompute, KernelRunner } from './composed-kernel.js';

/**
 * The input seen as [outer, reduced, inner]: the reduced axes (size-1 axes aside) one contiguous
 * block with kept axes after it. Undefined where the reduction is already innermost (tfjs's kernel
 * reads it in place), empty, or the reduced axes are split by kept ones.
 */
export function outerReductionBlocks(shape: readonly number[], axes: readonly number[]): { outer: number; reduced: number; inner: number } | undefined {
  let outer = 1;
  let reduced = 1;
  let inner = 1;
  // Walk the axes that matter (size 1 moves no element): kept, then reduced, then kept again.
  let block: 'outer' | 'reduced' | 'inner' = 'outer';
  for (const [i, size] of shape.entries()) {
    if (size === 1) continue;
    if (axes.includes(i)) {
      if (block === 'inner') return undefined;
      block = 'reduced';
      reduced *= size;
    } else if (block === 'outer') {
      outer *= size;
    } else {
      block = 'inner';
      inner *= size;
    }
  }
  if (reduced <= 1 || inner <= 1 || outer * reduced * inner === 0) return undefined;
  return { outer, reduced, inner };
}

/** The shape tfjs's reduction returns: the reduced axes dropped, or kept as 1 with keepDims. */
function reducedShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/**
 * Sum or mean over outer axes as XNNPACK's average pooling, one window over the reduced block:
 * [outer, reduced, 1, inner] pooled by [reduced, 1]. tfjs-backend-wasm's Sum and Mean first
 * transpose the reduced axes inward into a new buffer, then add in order: the bias and
 * batch-normalization gradients of an NHWC convnet (a sum over batch, rows and columns) took 3.9 ms
 * for [1, 56, 56, 256] and 35 ms for [32, 56, 56, 64], against 0.7 and 2.4 ms pooled. The pooling
 * also adds in shorter runs: against a float64 sum, its error was 0.4-0.8 of tfjs's.
 * Float32 only, other reductions undefined (tfjs's kernel).
 */
function pooledMean(x: tf.TensorInfo, attrs: tf.NamedAttrMap, r: KernelRunner): { mean: tf.TensorInfo; count: number; shape: number[] } | undefined {
  if (x.dtype !== 'float32') return undefined;
  const axes = tf.util.parseAxisParam(attrs['axis'] as number | number[], x.shape);
  const blocks = outerReductionBlocks(x.shape, axes);
  if (!blocks) return undefined;
  const { outer, reduced, inner } = blocks;
  const mean = r.run('AvgPool', { x: r.reshape(x, [outer, reduced, 1, inner]) }, { filterSize: [reduced, 1], strides: 1, pad: 'valid' });
  return { mean, count: reduced, shape: reducedShape(x.shape, axes, attrs['keepDims'] === true) };
}

/** Sum over outer axes: the pooled mean times the count (pooledMean). */
export const pooledSum: ComposedCompute = (inputs, attrs, r) => {
  const pooled = pooledMean(inputs['x']!, attrs, r);
  if (!pooled) return undefined;
  const count = r.constant(new Float32Array([pooled.count]), [], 'float32');
  return r.reshape(r.run('Multiply', { a: pooled.mean, b: count }), pooled.shape);
};

/** Mean over outer axes as one average pooling (pooledMean). */
export const pooledMeanOverOuterAxes: ComposedCompute = (inputs, attrs, r) => {
  const pooled = pooledMean(inputs['x']!, attrs, r);
  return pooled && r.reshape(pooled.mean, pooled.shape);
};
