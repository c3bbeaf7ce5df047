import * as tf from '@tensorflow/tfjs';
import type { WasmHeapBackend } from './wasm-heap-backend.js';
import { evenRuns } from '../wasm-simd/product-tiles.js';
import { wasmHeapKernels, type WasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';

/** Elements from which an elementwise SIMD kernel is cut among the kernel threads (below, waking a helper costs more than it saves). */
const PARALLEL_FROM_ELEMENTS = 1 << 16;

/** An elementwise float32 kernel of keras-bridge's wasm SIMD module: `fn(from, to, vectors, ...args)`, and the same in JavaScript for the elements past the last whole vector. */
export interface ElementwiseKernel {
  /** The function's index among the module's (WasmHeapKernels), for kernel-thread calls. */
  index: (kernels: WasmHeapKernels) => number;
  /** i32 arguments after (from, to, vectors). */
  args: readonly number[];
  /** One element, with the kernel's float32 operations. */
  scalar: (x: number) => number;
}

/** Parts an elementwise pass over `elements` is cut into for `threads` kernel threads: one below PARALLEL_FROM_ELEMENTS, else 4 a thread. */
export function elementwiseParts(threads: number, elements: number): number {
  return elements < PARALLEL_FROM_ELEMENTS || threads === 1 ? 1 : threads * 4;
}

/**
 * y = f(x) for a float32 x on wasm's heap by one of keras-bridge's SIMD kernels, four lanes at a
 * time, cut among the kernel threads for large tensors, the elements past the last whole vector in
 * JavaScript; undefined where x is not float32 or the heap cannot be reached (tfjs's kernel runs).
 */
export function elementwiseOnHeap(backend: tf.KernelBackend, x: tf.TensorInfo | undefined, kernel: ElementwiseKernel): tf.TensorInfo | undefined {
  if (!x || x.dtype !== 'float32') return undefined;
  const kernels = wasmHeapKernels(backend);
  if (!kernels) return undefined;
  const wasm = backend as unknown as WasmHeapBackend;
  // Made before the offsets are read: making it may grow the heap.
  const out = wasm.makeOutput([...x.shape], 'float32');
  const size = tf.util.sizeFromShape(x.shape);
  const [from, to] = [wasm.typedArrayFromHeap(x).byteOffset, wasm.typedArrayFromHeap(out).byteOffset];
  const vectors = Math.floor(size / 4);
  if (vectors > 0) {
    const threads = kernels.threads();
    const parts = elementwiseParts(threads.count, size);
    const fn = kernel.index(kernels);
    threads.run(evenRuns(vectors, parts).map(([first, end]) => [{ fn, args: [from + 16 * first, to + 16 * first, end - first, ...kernel.args] }]));
  }
  const heap = kernels.float32Heap();
  for (let i = 4 * vectors; i < size; i++) heap[to / 4 + i] = kernel.scalar(heap[from / 4 + i]!);
  return out;
}
