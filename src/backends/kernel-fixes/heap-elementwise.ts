import tf from '#tfjs';
import type { WasmHeapBackend } from './wasm-heap-backend.js';
import { evenRuns } from '../wasm-simd/product-tiles.js';
import { wasmHeapKernels, type WasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';

/** Elements from which an elementwise SIMD kernel is cut among the kernel threads (below, waking a helper costs more than it saves). */
const PARALLEL_FROM_ELEMENTS = 1 << 16;

/** Constants a kernel reads from the heap (a table): written into scratch made for the call, whose byte offset follows the kernel's other arguments. */
export interface HeapConstants {
  bytes: number;
  /** Writes them at byte `at` (a multiple of 8) of the heap's buffer. */
  write(buffer: ArrayBufferLike, at: number): void;
}

/**
 * An elementwise float32 kernel of keras-bridge's wasm SIMD module: `fn(from, to, vectors, ...args)`
 * (or `fn(from, ...more, to, vectors, ...args)` over more operands of the same shape), and the same
 * in JavaScript for the elements past the last whole vector.
 */
export interface ElementwiseKernel {
  /** The function's index among the module's (WasmHeapKernels), for kernel-thread calls. */
  index: (kernels: WasmHeapKernels) => number;
  /** i32 arguments after (from, to, vectors). */
  args: readonly number[];
  /** One element, with the kernel's float32 operations (the operands' elements in order). */
  scalar: (x: number, ...more: number[]) => number;
  constants?: HeapConstants;
}

/** Parts an elementwise pass over `elements` is cut into for `threads` kernel threads: one below PARALLEL_FROM_ELEMENTS, else 4 a thread. */
export function elementwiseParts(threads: number, elements: number): number {
  return elements < PARALLEL_FROM_ELEMENTS || threads === 1 ? 1 : threads * 4;
}

/**
 * y = f(x) for a float32 x on wasm's heap by one of keras-bridge's SIMD kernels, four lanes at a
 * time, cut among the kernel threads for large tensors, the elements past the last whole vector in
 * JavaScript; undefined where x is not float32 or the heap cannot be reached (tfjs's kernel runs).
 * `more` are further operands of x's shape and dtype, read element by element with x.
 */
export function elementwiseOnHeap(backend: tf.KernelBackend, x: tf.TensorInfo | undefined, kernel: ElementwiseKernel, more: readonly tf.TensorInfo[] = []): tf.TensorInfo | undefined {
  if (!x || x.dtype !== 'float32') return undefined;
  if (more.some((t) => t.dtype !== 'float32' || !tf.util.arraysEqual(t.shape, x.shape))) return undefined;
  const kernels = wasmHeapKernels(backend);
  if (!kernels) return undefined;
  const wasm = backend as unknown as WasmHeapBackend;
  // Made before the offsets are read: making either may grow the heap.
  const out = wasm.makeOutput([...x.shape], 'float32');
  const scratch = kernel.constants && wasm.makeOutput([Math.ceil(kernel.constants.bytes / 4) + 2], 'float32');
  try {
    const size = tf.util.sizeFromShape(x.shape);
    const [from, to] = [wasm.typedArrayFromHeap(x).byteOffset, wasm.typedArrayFromHeap(out).byteOffset];
    const operands = more.map((t) => wasm.typedArrayFromHeap(t).byteOffset);
    const constantsAt = scratch && 8 * Math.ceil(wasm.typedArrayFromHeap(scratch).byteOffset / 8);
    if (constantsAt !== undefined) kernel.constants!.write(kernels.float32Heap().buffer, constantsAt);
    const args = constantsAt === undefined ? kernel.args : [...kernel.args, constantsAt];
    const vectors = Math.floor(size / 4);
    if (vectors > 0) {
      const threads = kernels.threads();
      const parts = elementwiseParts(threads.count, size);
      const fn = kernel.index(kernels);
      threads.run(evenRuns(vectors, parts).map(([first, end]) => [{ fn, args: [from + 16 * first, ...operands.map((at) => at + 16 * first), to + 16 * first, end - first, ...args] }]));
    }
    const heap = kernels.float32Heap();
    for (let i = 4 * vectors; i < size; i++) heap[to / 4 + i] = kernel.scalar(heap[from / 4 + i]!, ...operands.map((at) => heap[at / 4 + i]!));
    return out;
  } finally {
    if (scratch) wasm.disposeData(scratch.dataId);
  }
}
