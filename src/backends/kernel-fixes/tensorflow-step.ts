import tf from '#tfjs';
import { runTensorflowOp } from './tensorflow-op.js';

/**
 * Step (x > 0 ? 1 : alpha, NaN kept) in TensorFlow ops on tensors that stay in TensorFlow.
 * tfjs-node 4.22's fills two tensors of x's size in JavaScript memory (ones and alpha) and copies
 * them in, on every call: it is what every ReLU's gradient runs (fused convolutions' and Dense's
 * activations), and on ResNet50 it was 93 ms of a 790 ms backward pass at batch 1. It also fails
 * on int32 (TensorFlow's IsNan takes floats only), which has no NaN to keep. Other dtypes: undefined.
 */
export function tensorflowStep({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | undefined {
  const x = inputs['x'] as tf.Tensor;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') return undefined;
  const dtype = x.dtype;
  const alpha = (attrs?.['alpha'] as number | undefined) ?? 0;
  return tf.tidy(() => {
    const T = { type: 'dtype', value: dtype } as const;
    const op = (name: string, operands: tf.TensorInfo[]) => runTensorflowOp(backend as tf.KernelBackend, name, operands, { T })[0]!;
    // int32 stores alpha truncated, as tfjs's cpu kernel does writing it into an Int32Array.
    const stepped = op('SelectV2', [op('Greater', [x, tf.scalar(0, dtype)]), tf.scalar(1, dtype), tf.scalar(dtype === 'int32' ? Math.trunc(alpha) : alpha, dtype)]);
    return dtype === 'int32' ? stepped : op('SelectV2', [op('IsNan', [x]), x, stepped]);
  });
}
