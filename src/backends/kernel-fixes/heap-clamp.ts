import type * as tf from '@tensorflow/tfjs';
import { float32Bits } from './conv-activations.js';
import { elementwiseOnHeap } from './heap-elementwise.js';
import type { WasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';

/** How many clamps (Relu) ran in keras-bridge's SIMD kernel (tests check the path a case took). */
export const simdClampCalls = { count: 0 };

/**
 * A clamp to [low, high] on wasm as one SIMD pass on the heap (wasm-simd/clamp.ts, through
 * heap-elementwise.ts: on keras-bridge's kernel threads for large tensors); registered for Relu
 * ([0, ∞]).
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
  const kernel = { index: (kernels: WasmHeapKernels) => kernels.clampVectorsIndex, args: [float32Bits(low), float32Bits(high)], scalar: (x: number) => Math.min(Math.max(x, low), high) };
  return ({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined => {
    const out = elementwiseOnHeap(backend as tf.KernelBackend, inputs['x'], kernel);
    if (out) simdClampCalls.count++;
    return out;
  };
}
