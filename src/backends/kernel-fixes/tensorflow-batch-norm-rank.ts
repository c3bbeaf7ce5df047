import tf from '#tfjs';
import { asTensor } from './composed-kernel.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/**
 * A batch normalization of a rank-5 (or higher) input with per-channel statistics: BatchNormalization
 * after a Conv3D. tfjs-core hands FusedBatchNorm such an input as it is, and tfjs-node passes it to
 * TensorFlow's FusedBatchNormV3 as NHWC, which TensorFlow's own CPU kernel refuses ("input must be
 * 4-dimensional") unless oneDNN is on, which TensorFlow turns on by default only on CPUs with
 * AVX-512 VNNI and later: on an AVX2 machine such a layer failed on the tensorflow backend. A
 * per-channel normalization does not mind the input viewed as [-1, 1, 1, channels]; the result is
 * given back its shape. Other cases go to TensorFlow as they are.
 */
export function fourDimensionalBatchNorm(args: KernelArgs, original: tf.KernelFunc | undefined): tf.TensorInfo | tf.TensorInfo[] | undefined {
  if (!original) return undefined;
  const { x: input, mean } = args.inputs;
  // tfjs-node broadcasts statistics of a higher rank itself, at any rank of x.
  if (input!.shape.length <= 4 || mean!.shape.length > 1) return undefined;
  const channels = input!.shape[input!.shape.length - 1]!;
  return tf.tidy(() => {
    const x = asTensor(input!);
    const normalized = asTensor(original({ ...args, inputs: { ...args.inputs, x: tf.reshape(x, [-1, 1, 1, channels]) } }) as tf.TensorInfo);
    return tf.reshape(normalized, x.shape);
  });
}
