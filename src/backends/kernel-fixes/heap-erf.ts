import * as tf from '@tensorflow/tfjs';
import { erfFloat32 } from '../wasm-simd/erf.js';
import { evenRuns } from '../wasm-simd/product-tiles.js';
import { wasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';

/** How many Erf calls ran in keras-bridge's SIMD kernel (tests check the path a case took). */
export const simdErfCalls = { count: 0 };

/** Elements from which Erf is cut among the kernel threads (below, waking a helper costs more than it saves). */
const PARALLEL_FROM_ELEMENTS = 1 << 16;

/**
 * Erf on wasm (exact GELU's: 0.5·x·(1 + erf(x/√2)), a Transformer's feed-forward activation) in
 * keras-bridge's SIMD kernel (wasm-simd/erf.ts): a rational function on the heap, four lanes at a
 * time, cut among the kernel threads for large tensors; the elements past the last whole vector
 * in JavaScript with the same float32 operations. tfjs-backend-wasm computes erf per element in
 * scalar code (10 ns an element: 1.4 ms for a [1, 128, 1024] activation). At most 6 units in the
 * last place from erf rounded to float32 (scripts/fit_erf_rational.py), as TensorFlow's own float
 * erf is a rational approximation too. float32 only; other dtypes: undefined, tfjs's kernel.
 */
export function heapErf({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const x = inputs['x'];
  if (!x || x.dtype !== 'float32') return undefined;
  const kernels = wasmHeapKernels(backend as tf.KernelBackend);
  if (!kernels) return undefined;
  const wasm = backend as unknown as WasmHeapBackend;
  // Made before the offsets are read: making it may grow the heap.
  const out = wasm.makeOutput([...x.shape], 'float32');
  const size = tf.util.sizeFromShape(x.shape);
  const [from, to] = [wasm.typedArrayFromHeap(x).byteOffset, wasm.typedArrayFromHeap(out).byteOffset];
  const vectors = Math.floor(size / 4);
  if (vectors > 0) {
    const threads = kernels.threads();
    const parts = size < PARALLEL_FROM_ELEMENTS || threads.count === 1 ? 1 : threads.count * 4;
    threads.run(evenRuns(vectors, parts).map(([first, end]) => [{ fn: kernels.erfRowsIndex, args: [from + 16 * first, to + 16 * first, end - first] }]));
  }
  const heap = kernels.float32Heap();
  for (let i = 4 * vectors; i < size; i++) heap[to / 4 + i] = erfFloat32(heap[from / 4 + i]!);
  simdErfCalls.count++;
  return out;
}
