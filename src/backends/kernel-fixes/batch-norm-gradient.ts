import tf from '#tfjs';
import { runTensorflowOp } from './tensorflow-op.js';
import { reshaped } from '../../ops/reshaped.js';

/**
 * The gradient of FusedBatchNorm (tf.batchNorm: BatchNormalization in inference), by broadcasting.
 * tfjs-core 4.22's materializes 1/sqrt(variance + ε) tiled to x's full shape and multiplies dy by
 * it and then by the scale: three full-size operations where one multiplication by the
 * per-channel factor scale/sqrt(variance + ε) does. On ResNet50 its Tile alone was 0.6 s of a 3.5 s
 * backward pass on wasm. The same formulas otherwise: y = (x - mean)·r·scale + offset, r = 1/sqrt(variance + ε).
 */
export const batchNormGradient: tf.GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (incoming, saved, attrs) => {
    const dy = incoming as tf.Tensor;
    const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
    const epsilon = attrs['varianceEpsilon'] as number;
    // Axes the statistics are broadcast over (all but the channels' for per-channel statistics).
    const reductionAxes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const reduce = (t: tf.Tensor) => (reductionAxes.length > 0 ? tf.reshape(tf.sum(t, reductionAxes), mean.shape) : tf.reshape(t, mean.shape));
    const r = tf.rsqrt(tf.add(variance, tf.scalar(epsilon)));
    // Only the statistics' gradients (training mode) need dy·scale: a pass over dy, not made otherwise.
    const scaled = () => (scale ? tf.mul(dy, scale) : dy);
    // Computed here, not in the closures: one kernel gives all three, and the backward pass's own
    // tidy disposes what no closure asks for (a scale that is not trained).
    const fused = fusedGradients(dy, x, mean, variance, scale, epsilon);
    return {
      x: () => fused?.x ?? tf.mul(dy, scale ? tf.mul(r, scale) : r),
      mean: () => reduce(tf.neg(tf.mul(scaled(), r))),
      variance: () => reduce(tf.mul(tf.mul(tf.sub(x, mean), scaled()), tf.mul(tf.mul(r, tf.mul(r, r)), tf.scalar(-0.5)))),
      scale: () => (fused ? reshaped(fused.scale, mean.shape) : reduce(tf.mul(tf.mul(dy, tf.sub(x, mean)), r))),
      offset: () => (fused ? reshaped(fused.offset, mean.shape) : reduce(dy)),
    };
  },
};

/**
 * The kernel computing dL/dx, dL/dscale and dL/doffset of a batch normalization with given
 * statistics in one pass, where a backend registers one (the tensorflow backend: TensorFlow's
 * FusedBatchNormGradV3, KERNEL_FIXES.tensorflow). Inputs dy, x, scale, mean, variance (channels
 * last, per-channel statistics); attribute epsilon; outputs [dx, dscale, doffset].
 */
export const FUSED_BATCH_NORM_GRAD = 'KerasBridgeFusedBatchNormGrad';

/** The three gradients from FUSED_BATCH_NORM_GRAD, where the backend has it and the case is its; undefined otherwise. */
function fusedGradients(dy: tf.Tensor, x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, scale: tf.Tensor | undefined, epsilon: number): { x: tf.Tensor; scale: tf.Tensor; offset: tf.Tensor } | undefined {
  const channels = x.shape[x.rank - 1]!;
  const perChannel = (t: tf.Tensor | undefined) => t === undefined || (t.size === channels && t.shape.slice(0, -1).every((d) => d === 1) && t.shape.at(-1) === channels);
  const float32 = [dy, x, mean, variance, scale].every((t) => t === undefined || t.dtype === 'float32');
  if (x.rank < 2 || !perChannel(mean) || !perChannel(variance) || !perChannel(scale) || !float32 || !tf.getKernel(FUSED_BATCH_NORM_GRAD, tf.getBackend())) return undefined;
  const flat = (t: tf.Tensor) => reshaped(t, [channels]);
  const [dx, dscale, doffset] = tf.engine().runKernel(
    FUSED_BATCH_NORM_GRAD,
    { dy, x, scale: scale ? flat(scale) : tf.ones([channels]), mean: flat(mean), variance: flat(variance) },
    { epsilon },
  ) as tf.Tensor[];
  return { x: dx!, scale: dscale!, offset: doffset! };
}

/**
 * FUSED_BATCH_NORM_GRAD on the tensorflow backend: FusedBatchNormGradV3 with is_training false
 * (the statistics are inputs; their own gradients stay composed). It takes 4-D NHWC, so x and dy of
 * another rank are viewed as [-1, 1, 1, channels], which per-channel sums do not mind.
 */
export function tensorflowFusedBatchNormGrad({ inputs, backend, attrs = {} }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { dy, x, scale, mean, variance } = inputs as Record<string, tf.TensorInfo>;
  const channels = x!.shape[x!.shape.length - 1]!;
  return tf.tidy(() => {
    const as4d = (t: tf.TensorInfo) => (t.shape.length === 4 ? (t as tf.Tensor) : tf.reshape(t as tf.Tensor, [-1, 1, 1, channels]));
    // An empty reserve_space_3: TensorFlow reads none when is_training is false.
    const [dx, dscale, doffset] = runTensorflowOp(
      backend as tf.KernelBackend,
      'FusedBatchNormGradV3',
      [as4d(dy!), as4d(x!), scale!, mean!, variance!, tf.zeros([0])],
      {
        T: { type: 'dtype', value: 'float32' },
        U: { type: 'dtype', value: 'float32' },
        epsilon: { type: 'float', value: attrs['epsilon'] as number },
        data_format: { type: 'string', value: 'NHWC' },
        is_training: { type: 'bool', value: false },
      },
      5,
    );
    return [reshaped(dx!, x!.shape), dscale!, doffset!];
  });
}
