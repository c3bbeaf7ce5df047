import * as tf from '@tensorflow/tfjs';
import { KernelRunner } from './composed-kernel.js';

/**
 * Relu6's gradient (KerasBridgeRelu6Grad: dy, and the saved input x) from wasm's float kernels:
 * dy · step(x) · step(6 - x), which is dy where 0 < x < 6 and 0 elsewhere, TensorFlow's Relu6Grad
 * as Keras computes it (tfjs-core's composition passes dy at x = 6 too). tfjs-core composes it
 * from LessEqual, Step, a Multiply of a bool tensor and a Cast; wasm's LessEqual and Cast take about
 * three times a float Multiply (MobileNetV2 forward+backward at batch 1: 85 ms of LessEqual in
 * 665 ms). Five float kernels instead. A NaN input gives NaN, as tfjs-core's does (TensorFlow: 0).
 */
export function composedRelu6Grad({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const dy = inputs['dy']!;
  const x = inputs['saved']!;
  if (dy.dtype !== 'float32' || x.dtype !== 'float32') return undefined;
  const r = new KernelRunner(backend as tf.KernelBackend, tf.getBackend());
  const six = r.constant(new Float32Array([6]), [], 'float32');
  const above = r.run('Step', { x }, { alpha: 0 });
  const below = r.run('Step', { x: r.run('Sub', { a: six, b: x }) }, { alpha: 0 });
  return r.finish(r.run('Multiply', { a: dy, b: r.run('Multiply', { a: above, b: below }) }));
}
