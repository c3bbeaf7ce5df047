import tf from '#tfjs';
import { runTensorflowOp } from './tensorflow-op.js';

/**
 * ClipByValue as TensorFlow's one op, as Keras runs it, where tfjs-node runs Minimum then Maximum:
 * every capped ReLU (ReLU(max_value=6), MobileNet's 35 of them) pays one op instead of two.
 * float32 and int32; other dtypes keep tfjs-node's kernel (undefined).
 */
export function tensorflowClipByValue({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const x = inputs['x'] as tf.Tensor;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') return undefined;
  const [low, high] = [attrs?.['clipValueMin'] as number, attrs?.['clipValueMax'] as number];
  return tf.tidy(() => runTensorflowOp(backend as tf.KernelBackend, 'ClipByValue', [x, tf.scalar(low, x.dtype), tf.scalar(high, x.dtype)], { T: { type: 'dtype', value: x.dtype } })[0]!);
}

/** Relu6 as TensorFlow's one op, as Keras runs it, where tfjs-node runs Relu then Minimum. float32 only. */
export function tensorflowRelu6({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const x = inputs['x'] as tf.Tensor;
  if (x.dtype !== 'float32') return undefined;
  return runTensorflowOp(backend as tf.KernelBackend, 'Relu6', [x], { T: { type: 'dtype', value: 'float32' } })[0]!;
}
