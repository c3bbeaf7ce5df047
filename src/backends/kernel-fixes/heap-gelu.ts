import tf from '#tfjs';
import { geluFloat32, geluGradientFloat32 } from '../wasm-simd/gelu.js';
import { EXP_TABLE_CONSTANTS } from './heap-exp.js';
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

/** The gradient of KerasBridgeGelu (inputs x and dy), which the `gelu` activation's backward pass runs under a tape (layers/fixes/single-op-gelu.ts). */
export const GELU_GRADIENT_KERNEL = 'KerasBridgeGeluGradient';

/** How many KerasBridgeGeluGradient calls ran in keras-bridge's SIMD kernel. */
export const simdGeluGradientCalls = { count: 0 };

/**
 * KerasBridgeGeluGradient on wasm: dx for x and dy, as tfjs-core's backward pass through
 * tfjs-layers' composition computes it (gelu.ts, geluGradientFloat32), in one pass of keras-bridge's
 * SIMD kernel where that pass runs ten kernels (Multiply, Multiply, Multiply, Square, Neg, Exp,
 * Multiply, Multiply, RealDiv, Add), each reading and writing the whole tensor. Where the SIMD kernel
 * cannot run, those ten kernels of the backend, in tfjs-core's order.
 */
export function heapGeluGradient({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const [x, dy] = [inputs['x'], inputs['dy']];
  if (!x || !dy || x.dtype !== 'float32' || dy.dtype !== 'float32' || !tf.util.arraysEqual(x.shape, dy.shape)) return undefined;
  const out = elementwiseOnHeap(backend as tf.KernelBackend, x, { index: (kernels) => kernels.geluGradientRowsIndex, args: [], scalar: geluGradientFloat32, constants: EXP_TABLE_CONSTANTS }, [dy]);
  if (out) {
    simdGeluGradientCalls.count++;
    return out;
  }
  const r = new KernelRunner(backend as tf.KernelBackend, tf.getBackend());
  const scalar = (value: number) => r.constant(new Float32Array([value]), [], 'float32');
  const u = r.run('RealDiv', { a: x, b: scalar(Math.SQRT2) });
  const cdf = r.run('Multiply', { a: scalar(0.5), b: r.run('Add', { a: scalar(1), b: r.run('Erf', { x: u }) }) });
  const throughProduct = r.run('Multiply', { a: dy, b: cdf });
  const halfDyX = r.run('Multiply', { a: r.run('Multiply', { a: dy, b: x }), b: scalar(0.5) });
  const erfSlope = r.run('Multiply', { a: r.run('Exp', { x: r.run('Neg', { x: r.run('Square', { x: u }) }) }), b: scalar(2 / Math.sqrt(Math.PI)) });
  const throughErf = r.run('RealDiv', { a: r.run('Multiply', { a: halfDyX, b: erfSlope }), b: scalar(Math.SQRT2) });
  return r.finish(r.run('Add', { a: throughProduct, b: throughErf }));
}
