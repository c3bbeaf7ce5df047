import type * as tf from '@tensorflow/tfjs';
import { erfFloat32 } from '../wasm-simd/erf.js';
import { elementwiseOnHeap } from './heap-elementwise.js';

/** How many Erf calls ran in keras-bridge's SIMD kernel (tests check the path a case took). */
export const simdErfCalls = { count: 0 };

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
  const out = elementwiseOnHeap(backend as tf.KernelBackend, inputs['x'], { index: (kernels) => kernels.erfRowsIndex, args: [], scalar: erfFloat32 });
  if (!out) return undefined;
  simdErfCalls.count++;
  return out;
}
