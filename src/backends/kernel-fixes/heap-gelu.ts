import * as tf from '@tensorflow/tfjs';
import { geluFloat32 } from '../wasm-simd/gelu.js';
import { KernelRunner } from './composed-kernel.js';
import { elementwiseOnHeap } from './heap-elementwise.js';

/** The kernel tfjs-layers' `gelu` activation runs as one operation where it can (layers/fixes/single-op-gelu.ts). */
export const GELU_KERNEL = 'KerasBridgeGelu';

/** How many KerasBridgeGelu calls ran in keras-bridge's SIMD kernel (tests check the path a case took). */
export const simdGeluCalls = { count: 0 };

/**
 * KerasBridgeGelu on wasm: exact GELU, x · (0.5 · (1 + erf(x / √2))), as tfjs-layers composes it
 * from RealDiv, Erf, Add and two Multiplies, in one pass of keras-bridge's SIMD kernel
 * (wasm-simd/gelu.ts) with the same float32 operations in the same order, erf as heap-erf.ts
 * computes it: the same values, one read and one write of the tensor where the composition makes
 * five of each. Where the SIMD kernel cannot run, those five kernels of the backend.
 */
export function heapGelu({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const x = inputs['x'];
  if (!x || x.dtype !== 'float32') return undefined;
  const out = elementwiseOnHeap(backend as tf.KernelBackend, x, { index: (kernels) => kernels.geluRowsIndex, args: [], scalar: geluFloat32 });
  if (out) {
    simdGeluCalls.count++;
    return out;
  }
  const r = new KernelRunner(backend as tf.KernelBackend, tf.getBackend());
  const scalar = (value: number) => r.constant(new Float32Array([value]), [], 'float32');
  const erf = r.run('Erf', { x: r.run('RealDiv', { a: x, b: scalar(Math.SQRT2) }) });
  const cdf = r.run('Multiply', { a: scalar(0.5), b: r.run('Add', { a: scalar(1), b: erf }) });
  return r.finish(r.run('Multiply', { a: x, b: cdf }));
}
