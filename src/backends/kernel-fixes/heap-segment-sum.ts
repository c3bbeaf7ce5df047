import tf from '#tfjs';
import { wasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';

/** How many segment sums ran in wasm SIMD (tests check the path a case took). */
export const simdSegmentSums = { count: 0 };

/**
 * UnsortedSegmentSum on wasm (what tfjs-core's gradient of Gather runs: an Embedding layer's
 * gradient), which tfjs-backend-wasm 4.22 lacks, as a scatter on the heap: the output zeroed, then
 * each row of x added to the row its segment id names, four lanes at a time
 * (wasm-simd/segment-sum.ts). tfjs's cpu kernel, which ran on the host for it before, makes one
 * masked sum over all of x per segment: segments × rows × columns operations (a 1,000-word
 * table's gradient from 128 tokens of 64: 8 million) where the scatter makes rows × columns. Ids
 * outside [0, numSegments) add nothing, as in TensorFlow. Rows that are not whole vectors of 4 (an
 * Embedding of 5 or 10 dimensions) are added by a plain loop over the heap, the same sums in the
 * same order. float32 x, rank-1 int32 ids: other cases return undefined and take the host kernel.
 */
export function heapUnsortedSegmentSum({ inputs, attrs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const { x, segmentIds } = inputs as Record<string, tf.TensorInfo | undefined>;
  const segments = attrs?.['numSegments'] as number;
  if (!x || !segmentIds || x.dtype !== 'float32' || segmentIds.dtype !== 'int32' || segmentIds.shape.length !== 1 || x.shape.length < 1) return undefined;
  const rows = x.shape[0]!;
  const columns = tf.util.sizeFromShape(x.shape.slice(1));
  if (segmentIds.shape[0] !== rows || columns === 0 || !Number.isInteger(segments) || segments < 0) return undefined;
  const wasm = backend as unknown as WasmHeapBackend;
  // Made before the offsets are read: making it may grow the heap.
  const out = wasm.makeOutput([segments, ...x.shape.slice(1)], 'float32');
  const kernels = columns % 4 === 0 ? wasmHeapKernels(backend as tf.KernelBackend) : undefined;
  if (!kernels) {
    addRowsToSegments(wasm.typedArrayFromHeap(x) as Float32Array, wasm.typedArrayFromHeap(segmentIds) as Int32Array, wasm.typedArrayFromHeap(out) as Float32Array, columns);
    return out;
  }
  const at = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset;
  // Zeros first, as the other heap kernels that sum into their output start (the heap hands memory out as it was left).
  kernels.float32Heap().fill(0, at(out) / 4, at(out) / 4 + segments * columns);
  kernels.segmentRowsAdd(at(x), at(segmentIds), at(out), rows, columns / 4, segments, 4 * columns);
  simdSegmentSums.count++;
  return out;
}

/** out (its segments' rows) = 0, then each row of x added to the row its id names, rows in order; ids outside out's rows add nothing. */
function addRowsToSegments(x: Float32Array, ids: Int32Array, out: Float32Array, columns: number): void {
  out.fill(0);
  const segments = out.length / columns;
  for (let row = 0; row < ids.length; row++) {
    const segment = ids[row]!;
    if (segment < 0 || segment >= segments) continue;
    const from = row * columns;
    const to = segment * columns;
    for (let k = 0; k < columns; k++) out[to + k] += x[from + k]!;
  }
}
