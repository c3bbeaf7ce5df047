import tf from '#tfjs';
import { softmaxGradientRow } from '../wasm-simd/softmax-gradient.js';
import { wasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';
import { KernelRunner } from './composed-kernel.js';
import { inRowGroups } from './heap-row-groups.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';

/** The gradient of softmax over the last axis (inputs dy and y, the softmax's output), which softmax-gradient.ts's gradient runs where the backend has it. */
export const SOFTMAX_GRADIENT_KERNEL = 'KerasBridgeSoftmaxGrad';

/** How many KerasBridgeSoftmaxGrad calls ran in keras-bridge's SIMD kernel. */
export const simdSoftmaxGradientCalls = { count: 0 };

/**
 * KerasBridgeSoftmaxGrad on wasm: dy·y − sum(dy·y)·y over the last axis, as tfjs-core's Softmax
 * gradient composes it (Multiply, Sum, Multiply, Sub: four passes over an attention's [B, heads,
 * T, T]), in one SIMD pass over each group of four rows (wasm-simd/softmax-gradient.ts) with the
 * same float32 operations in the same order, the sums in column order as tfjs's Sum adds: the
 * same values. Groups cut among the kernel threads; the rows past the last group of four in
 * JavaScript. Where the SIMD kernel does not apply (rows not a multiple of 4 columns, no heap),
 * those four kernels of the backend.
 */
export function heapSoftmaxGradient({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const [dy, y] = [inputs['dy'], inputs['y']];
  if (!dy || !y || dy.dtype !== 'float32' || y.dtype !== 'float32' || !tf.util.arraysEqual(dy.shape, y.shape) || y.shape.length === 0) return undefined;
  const columns = y.shape[y.shape.length - 1]!;
  const size = tf.util.sizeFromShape(y.shape);
  const kernels = wasmHeapKernels(backend as tf.KernelBackend);
  if (kernels && columns % 4 === 0 && columns > 0) {
    const wasm = backend as unknown as WasmHeapBackend;
    // Made before the offsets are read: making it may grow the heap.
    const out = wasm.makeOutput([...y.shape], 'float32');
    const [dyAt, yAt, outAt] = [dy, y, out].map((t) => wasm.typedArrayFromHeap(t).byteOffset) as [number, number, number];
    const kernel = { fn: kernels.softmaxGradientRowsIndex, rows: size / columns, columns, args: (offset: number, groups: number) => [dyAt + offset, yAt + offset, outAt + offset, groups, columns] };
    inRowGroups(kernels, kernel, (row, heap) => softmaxGradientRow(heap.subarray(dyAt / 4), heap.subarray(yAt / 4), heap.subarray(outAt / 4), row * columns, columns));
    simdSoftmaxGradientCalls.count++;
    return out;
  }
  const r = new KernelRunner(backend as tf.KernelBackend, tf.getBackend());
  const products = r.run('Multiply', { a: dy, b: y });
  const sums = r.run('Sum', { x: products }, { axis: [y.shape.length - 1], keepDims: true });
  return r.finish(r.run('Sub', { a: products, b: r.run('Multiply', { a: sums, b: y }) }));
}
