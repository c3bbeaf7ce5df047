import tf from '#tfjs';
import { LAYER_NORM_STATISTICS, layerNormGradientRow, layerNormRow } from '../wasm-simd/layer-norm.js';
import { evenRuns } from '../wasm-simd/product-tiles.js';
import { elementwiseParts } from './heap-elementwise.js';
import { wasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';
import { KernelRunner } from './composed-kernel.js';
import { inRowGroups } from './heap-row-groups.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';

/** Layer normalization over the last axis (inputs x, and gamma and beta of shape [C] where given; attribute epsilon), which normalizeAsKeras runs outside a tape where the backend has it. */
export const LAYER_NORM_KERNEL = 'KerasBridgeLayerNorm';

/** How many KerasBridgeLayerNorm calls ran in keras-bridge's SIMD kernel. */
export const simdLayerNormCalls = { count: 0 };

/**
 * KerasBridgeLayerNorm on wasm: layer normalization over the last axis as normalizeAsKeras
 * composes it (Mean, Sub, Square, Mean, Add, Rsqrt, then with gamma and beta Multiply, Neg,
 * Multiply, Add, Multiply, Add: six passes over x's size and more over the row statistics), in one
 * SIMD kernel over each group of four rows (wasm-simd/layer-norm.ts) with the same float32
 * operations in the same order, the sums in column order as tfjs's Mean adds: the same values.
 * Groups cut among the kernel threads; rows past the last group of four in JavaScript. Where the
 * kernel does not apply (rows not a multiple of 4 columns, no heap), those kernels of the backend.
 */
export function heapLayerNorm({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const { x, gamma, beta } = inputs as { x?: tf.TensorInfo; gamma?: tf.TensorInfo; beta?: tf.TensorInfo };
  const epsilon = attrs?.['epsilon'] as number;
  if (!x || x.dtype !== 'float32' || x.shape.length === 0 || typeof epsilon !== 'number') return undefined;
  const columns = x.shape[x.shape.length - 1]!;
  const weightsFit = [gamma, beta].every((w) => w === undefined || (w.dtype === 'float32' && tf.util.sizeFromShape(w.shape) === columns));
  if (!weightsFit) return undefined;
  const size = tf.util.sizeFromShape(x.shape);
  const kernels = wasmHeapKernels(backend as tf.KernelBackend);
  if (kernels && columns % 4 === 0 && columns > 0) {
    const wasm = backend as unknown as WasmHeapBackend;
    // Made before the offsets are read: making it may grow the heap.
    const out = wasm.makeOutput([...x.shape], 'float32');
    const at = (t: tf.TensorInfo | undefined) => (t ? wasm.typedArrayFromHeap(t).byteOffset : 0);
    const [xAt, outAt, gammaAt, betaAt] = [at(x), at(out), at(gamma), at(beta)];
    const fn = kernels.layerNormRowsIndex({ scale: gamma !== undefined, center: beta !== undefined });
    const epsilonBits = new Int32Array(new Float32Array([epsilon]).buffer)[0]!;
    const kernel = { fn, rows: size / columns, columns, args: (offset: number, groups: number) => [xAt + offset, outAt + offset, groups, columns, gammaAt, betaAt, epsilonBits] };
    inRowGroups(kernels, kernel, (row, heap) => {
      const [gammaValues, betaValues] = [gamma && heap.subarray(gammaAt / 4, gammaAt / 4 + columns), beta && heap.subarray(betaAt / 4, betaAt / 4 + columns)];
      layerNormRow(heap.subarray(xAt / 4), heap.subarray(outAt / 4), row * columns, columns, epsilon, gammaValues, betaValues);
    });
    simdLayerNormCalls.count++;
    return out;
  }
  const r = new KernelRunner(backend as tf.KernelBackend, tf.getBackend());
  const last = { axis: [x.shape.length - 1], keepDims: true };
  const scalar = (value: number) => r.constant(new Float32Array([value]), [], 'float32');
  const mean = r.run('Mean', { x }, last);
  const variance = r.run('Mean', { x: r.run('Square', { x: r.run('Sub', { a: x, b: mean }) }) }, last);
  let inv = r.run('Rsqrt', { x: r.run('Add', { a: variance, b: scalar(epsilon) }) });
  if (gamma) inv = r.run('Multiply', { a: inv, b: gamma });
  let shift = r.run('Multiply', { a: r.run('Neg', { x: mean }), b: inv });
  if (beta) shift = r.run('Add', { a: shift, b: beta });
  return r.finish(r.run('Add', { a: r.run('Multiply', { a: x, b: inv }), b: shift }));
}

/** The first part of layer normalization's gradient with gamma (inputs x, dy, gamma; attribute epsilon): s = dinv·r and the rows' statistics [5, rows] (wasm-simd/layer-norm.ts, layerNormGradientRow). */
export const LAYER_NORM_STATISTICS_KERNEL = 'KerasBridgeLayerNormStatistics';

/** The input's gradient of layer normalization with gamma (inputs x, dy, gamma, terms: [4, rows] of r, mean, dsq, dm). */
export const LAYER_NORM_INPUT_GRADIENT_KERNEL = 'KerasBridgeLayerNormInputGradient';

/** How many layer-normalization gradients ran in keras-bridge's SIMD kernels. */
export const simdLayerNormGradientCalls = { count: 0 };

/** x's rows and columns, where the SIMD gradient kernels take x (float32, rows a multiple of 4 columns, gamma of [columns]) on a backend whose heap they reach. */
function gradientShape(backend: tf.KernelBackend, x: tf.TensorInfo | undefined, gamma: tf.TensorInfo | undefined): { rows: number; columns: number } | undefined {
  if (!x || !gamma || x.dtype !== 'float32' || x.shape.length === 0 || !wasmHeapKernels(backend)) return undefined;
  const columns = x.shape[x.shape.length - 1]!;
  if (columns % 4 !== 0 || columns === 0 || tf.util.sizeFromShape(gamma.shape) !== columns) return undefined;
  return { rows: tf.util.sizeFromShape(x.shape) / columns, columns };
}

/** Whether the active backend runs layer normalization's gradient in keras-bridge's kernels for x and gamma (normalizeAsKeras asks before it pairs the forward kernel with them). */
export function layerNormGradientInKernels(x: tf.Tensor, gamma: tf.Tensor | null): boolean {
  const backend = tf.getBackend();
  if (!gamma || !tf.getKernel(LAYER_NORM_STATISTICS_KERNEL, backend) || !tf.getKernel(LAYER_NORM_INPUT_GRADIENT_KERNEL, backend)) return false;
  return gradientShape(tf.backend(), x, gamma) !== undefined;
}

/** KerasBridgeLayerNormStatistics on wasm: layerNormGradientRows over groups of four rows on the kernel threads, the rows past the last group in JavaScript. */
export function heapLayerNormStatistics({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] | undefined {
  const { x, dy, gamma } = inputs as { x?: tf.TensorInfo; dy?: tf.TensorInfo; gamma?: tf.TensorInfo };
  const epsilon = attrs?.['epsilon'] as number;
  const shape = gradientShape(backend as tf.KernelBackend, x, gamma);
  if (!shape || !dy || dy.dtype !== 'float32' || !tf.util.arraysEqual(dy.shape, x!.shape) || typeof epsilon !== 'number') return undefined;
  const { rows, columns } = shape;
  const kernels = wasmHeapKernels(backend as tf.KernelBackend)!;
  const wasm = backend as unknown as WasmHeapBackend;
  // Made before the offsets are read: making them may grow the heap.
  const s = wasm.makeOutput([...x!.shape], 'float32');
  const statistics = wasm.makeOutput([LAYER_NORM_STATISTICS.length, rows], 'float32');
  const at = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset;
  const [xAt, dyAt, gammaAt, sAt, statisticsAt] = [at(x!), at(dy), at(gamma!), at(s), at(statistics)];
  const epsilonBits = new Int32Array(new Float32Array([epsilon]).buffer)[0]!;
  const kernel = { fn: kernels.layerNormGradientRowsIndex, rows, columns, args: (offset: number, groups: number) => [xAt + offset, dyAt + offset, gammaAt, sAt + offset, statisticsAt + offset / columns, groups, columns, rows, epsilonBits] };
  inRowGroups(kernels, kernel, (row, heap) => {
    const planes = LAYER_NORM_STATISTICS.map((_, plane) => heap.subarray(statisticsAt / 4 + plane * rows, statisticsAt / 4 + (plane + 1) * rows));
    layerNormGradientRow(heap.subarray(xAt / 4), heap.subarray(dyAt / 4), heap.subarray(gammaAt / 4, gammaAt / 4 + columns), heap.subarray(sAt / 4), planes, row, columns, epsilon);
  });
  return [s, statistics];
}

/** KerasBridgeLayerNormInputGradient on wasm: layerNormInputGradientRows, rows cut among the kernel threads. */
export function heapLayerNormInputGradient({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const { x, dy, gamma, terms } = inputs as { x?: tf.TensorInfo; dy?: tf.TensorInfo; gamma?: tf.TensorInfo; terms?: tf.TensorInfo };
  const shape = gradientShape(backend as tf.KernelBackend, x, gamma);
  if (!shape || !dy || !terms || !tf.util.arraysEqual(dy.shape, x!.shape) || tf.util.sizeFromShape(terms.shape) !== 4 * shape.rows) return undefined;
  const { rows, columns } = shape;
  const kernels = wasmHeapKernels(backend as tf.KernelBackend)!;
  const wasm = backend as unknown as WasmHeapBackend;
  const dx = wasm.makeOutput([...x!.shape], 'float32');
  const at = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset;
  const [xAt, dyAt, gammaAt, dxAt, termsAt] = [at(x!), at(dy), at(gamma!), at(dx), at(terms)];
  const threads = kernels.threads();
  const parts = Math.min(rows, elementwiseParts(threads.count, rows * columns));
  const fn = kernels.layerNormInputGradientRowsIndex;
  threads.run(evenRuns(rows, parts).map(([first, end]) => [{ fn, args: [xAt + 4 * first * columns, dyAt + 4 * first * columns, gammaAt, dxAt + 4 * first * columns, termsAt + 4 * first, end - first, columns, rows] }]));
  simdLayerNormGradientCalls.count++;
  return dx;
}
