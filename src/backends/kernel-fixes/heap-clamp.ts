import * as tf from '@tensorflow/tfjs';
import { float32Bits } from './conv-activations.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';
import { evenRuns } from '../wasm-simd/product-tiles.js';
import { wasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';

/** How many clamps (Relu) ran in keras-bridge's SIMD kernel (tests check the path a case took). */
export const simdClampCalls = { count: 0 };

/** Elements from which a clamp is cut among the kernel threads. */
const PARALLEL_FROM_ELEMENTS = 1 << 16;

/**
 * A clamp to [low, high] on wasm as one SIMD pass on the heap (wasm-simd/clamp.ts), on
 * keras-bridge's kernel threads for large tensors; registered for Relu ([0, ∞]).
 * tfjs-backend-wasm runs Relu as an XNNPACK clamp on XNNPACK's thread pool, whose threads spin for
 * a while after each operation and hold the cores that keras-bridge's kernel threads need next: a
 * ResNet's convolutions, which run in keras-bridge's tiles, come right after its ReLUs (ResNet50's
 * forward pass at batch 1, alternating in one process: 120-128 → 112-114 ms, median of 20).
 * Relu6 is left to XNNPACK: in MobileNetV2 it comes before XNNPACK's depthwise convolutions, which
 * then start on a pool that has gone to sleep (17.8 → 19.4 ms with it here). The values are the
 * same: max then min, NaN kept (max(-0, 0) is 0). float32 only; anything else: undefined, and
 * tfjs's kernel runs.
 */
export function heapClamp(low: number, high: number) {
  const [lowBits, highBits] = [float32Bits(low), float32Bits(high)];
  return ({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined => {
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
      threads.run(evenRuns(vectors, parts).map(([first, end]) => [{ fn: kernels.clampVectorsIndex, args: [from + 16 * first, to + 16 * first, end - first, lowBits, highBits] }]));
    }
    const heap = kernels.float32Heap();
    for (let i = 4 * vectors; i < size; i++) heap[to / 4 + i] = Math.min(Math.max(heap[from / 4 + i]!, low), high);
    simdClampCalls.count++;
    return out;
  };
}
