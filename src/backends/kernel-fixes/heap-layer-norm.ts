import * as tf from '@tensorflow/tfjs';
import { layerNormRow } from '../wasm-simd/layer-norm.js';
import { evenRuns } from '../wasm-simd/product-tiles.js';
import { wasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';
import { KernelRunner } from './composed-kernel.js';
import { elementwiseParts } from './heap-elementwise.js';
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
    const rows = size / columns;
    const groups = Math.floor(rows / 4);
    if (groups > 0) {
      const threads = kernels.threads();
      const fn = kernels.layerNormRowsIndex({ scale: gamma !== undefined, center: beta !== undefined });
      const epsilonBits = new Int32Array(new Float32Array([epsilon]).buffer)[0]!;
      const groupBytes = 16 * columns;
      const parts = Math.min(groups, elementwiseParts(threads.count, size));
      threads.run(evenRuns(groups, parts).map(([first, end]) => [{ fn, args: [xAt + first * groupBytes, outAt + first * groupBytes, end - first, columns, gammaAt, betaAt, epsilonBits] }]));
    }
    const heap = kernels.float32Heap();
    const [gammaValues, betaValues] = [gamma && heap.subarray(gammaAt / 4, gammaAt / 4 + columns), beta && heap.subarray(betaAt / 4, betaAt / 4 + columns)];
    for (let row = 4 * groups; row < rows; row++) layerNormRow(heap.subarray(xAt / 4), heap.subarray(outAt / 4), row * columns, columns, epsilon, gammaValues, betaValues);
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
