import tf from '#tfjs';
import { reluGradientOnHeap } from '../wasm-simd/relu-gradients.js';
import { wasmHeapKernels } from '../wasm-simd/wasm-heap-kernels.js';
import { KernelRunner } from './composed-kernel.js';
import type { WasmHeapBackend } from './wasm-heap-backend.js';

/**
 * Relu6's gradient (KerasBridgeRelu6Grad: dy, and the saved output y = relu6(x); the input x gives
 * the same, 0 < y < 6 iff 0 < x < 6) from wasm's float kernels:
 * dy · step(x) · step(6 - x), which is dy where 0 < x < 6 and 0 elsewhere, TensorFlow's Relu6Grad
 * as Keras computes it (tfjs-core's composition passes dy at x = 6 too). tfjs-core composes it
 * from LessEqual, Step, a Multiply of a bool tensor and a Cast; wasm's LessEqual and Cast take about
 * three times a float Multiply (MobileNetV2 forward+backward at batch 1: 85 ms of LessEqual in
 * 665 ms). Five float kernels instead, where keras-bridge's wasm SIMD kernel cannot run; there a NaN
 * input gives NaN, as tfjs-core's does (TensorFlow, and the SIMD kernel: 0).
 *
 * First choice: one pass in keras-bridge's wasm SIMD kernel on the heap (wasm-simd/relu-gradients.ts):
 * MobileNetV2 at batch 8, 35 calls, 69 ms as five kernels.
 */
export function composedRelu6Grad({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const dy = inputs['dy']!;
  const x = inputs['saved']!;
  if (dy.dtype !== 'float32' || x.dtype !== 'float32') return undefined;
  const bySimd = reluGradientBySimd(backend as tf.KernelBackend, dy, x, 6);
  if (bySimd) return bySimd;
  const r = new KernelRunner(backend as tf.KernelBackend, tf.getBackend());
  const six = r.constant(new Float32Array([6]), [], 'float32');
  const above = r.run('Step', { x }, { alpha: 0 });
  const below = r.run('Step', { x: r.run('Sub', { a: six, b: x }) }, { alpha: 0 });
  return r.finish(r.run('Multiply', { a: dy, b: r.run('Multiply', { a: above, b: below }) }));
}

/**
 * ReLU's (cap undefined) or relu6's gradient in one pass of keras-bridge's wasm SIMD kernel on the
 * heap; undefined where the kernel cannot run or the shapes differ in size.
 */
export function reluGradientBySimd(backend: tf.KernelBackend, dy: tf.TensorInfo, x: tf.TensorInfo, cap: 6 | undefined): tf.TensorInfo | undefined {
  const size = tf.util.sizeFromShape(x.shape);
  if (tf.util.sizeFromShape(dy.shape) !== size) return undefined;
  const kernels = wasmHeapKernels(backend);
  if (!kernels) return undefined;
  const wasm = backend as unknown as WasmHeapBackend;
  // Made before the offsets are read: making it may grow the heap.
  const out = wasm.makeOutput([...dy.shape], 'float32');
  if (size === 0) return out;
  const offset = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset / 4;
  reluGradientOnHeap(kernels.threads(), cap === undefined ? kernels.reluGradientIndex : kernels.relu6GradientIndex, cap, kernels.float32Heap(), offset(dy), offset(x), offset(out), size);
  return out;
}

/**
 * KerasBridgeReluGrad on wasm: dy where x > 0, else 0 (TensorFlow's ReluGrad, and so Keras's: 0
 * at NaN, where tfjs-core's composition gives NaN) in one SIMD pass, where tfjs-core runs Step, a
 * Cast and a Multiply. Without the SIMD kernel, the same on the heap in plain loops.
 */
export function wasmReluGrad({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const dy = inputs['dy']!;
  const x = inputs['saved']!;
  const bySimd = dy.dtype === 'float32' && x.dtype === 'float32' ? reluGradientBySimd(backend as tf.KernelBackend, dy, x, undefined) : undefined;
  if (bySimd) return bySimd;
  const wasm = backend as unknown as WasmHeapBackend;
  const out = wasm.makeOutput([...dy.shape], 'float32');
  const [g, v, o] = [wasm.typedArrayFromHeap(dy), wasm.typedArrayFromHeap(x), wasm.typedArrayFromHeap(out)];
  for (let i = 0; i < o.length; i++) o[i] = g[i]! * (v[i]! > 0 ? 1 : 0);
  return out;
}
