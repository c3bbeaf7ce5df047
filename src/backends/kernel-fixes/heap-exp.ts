import type * as tf from '@tensorflow/tfjs';
import { EXP_TABLE_BYTES, expFloat32, writeExpTable } from '../wasm-simd/exp.js';
import { elementwiseOnHeap, type HeapConstants } from './heap-elementwise.js';

/** How many Exp calls ran in keras-bridge's SIMD kernel (tests check the path a case took). */
export const simdExpCalls = { count: 0 };

/** exp.ts's table, written into the heap for each call that reads it. */
export const EXP_TABLE_CONSTANTS: HeapConstants = { bytes: EXP_TABLE_BYTES, write: writeExpTable };

/**
 * Exp on wasm in keras-bridge's SIMD kernel (wasm-simd/exp.ts): tfjs-backend-wasm's own routine (its
 * C library's expf, in float64) two lanes at a time, cut among the kernel threads for large
 * tensors: the same values bit for bit. tfjs-backend-wasm calls expf per element on one thread (5
 * ns an element: 20 ms for the [32, 128, 1024] of a Transformer block's GELU gradient). float32
 * only; other dtypes: undefined, tfjs's kernel.
 */
export function heapExp({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const out = elementwiseOnHeap(backend as tf.KernelBackend, inputs['x'], { index: (kernels) => kernels.expRowsIndex, args: [], scalar: expFloat32, constants: EXP_TABLE_CONSTANTS });
  if (!out) return undefined;
  simdExpCalls.count++;
  return out;
}
