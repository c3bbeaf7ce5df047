import tf from '#tfjs';
import { stopGradient } from './stop-gradient.js';

/**
 * Mean and (biased) variance over `axes` as TensorFlow's tf.nn.moments computes them, which is
 * what Keras 3's ops.moments runs (LayerNormalization, BatchNormalization in training,
 * GroupNormalization): the variance is the mean of (x - stop_gradient(mean))^2.
 *
 * tfjs's tf.moments lets the gradient flow through the mean inside the variance too. That path is
 * zero in exact arithmetic (the deviations sum to zero) but not in float32, and it moved a
 * ConvNeXt block's depthwise kernel gradient by up to 2.4e-6 against Keras's (layer-zoo,
 * applications/convnext_block_layer_scale on tensorflow). tfjs's squaredDifference is not used:
 * its gradient does not reduce over broadcast dimensions.
 */
export function tfMoments(x: tf.Tensor, axes: number[], keepDims: boolean): { mean: tf.Tensor; variance: tf.Tensor } {
  return tf.tidy(() => {
    const mean = tf.mean(x, axes, true);
    const variance = tf.mean(squaredDeviation(x, stopGradient(mean)), axes, keepDims);
    return { mean: keepDims ? mean : tf.squeeze(mean, axes), variance };
  });
}

/**
 * (x - center)^2, whose gradient keeps x and center, not x - center: 2·(x - center)·dy with
 * (x - center) computed again in the backward pass, as tfjs-core's Square gradient computes it
 * from its saved input, so the values are the same bit for bit. As square(sub(x, center)), the tape
 * kept x - center, a tensor of x's size, to the backward pass for every normalization in training;
 * x itself is kept anyway where the normalization multiplies it (batch normalization's x·inv), and
 * center is per channel. ResNet50 in training mode on wasm: the data alive when the backward pass
 * starts 121 → 81 MB per image. The center's gradient is zero (it is stop_gradient's output here).
 */
const squaredDeviation = tf.customGrad(((x: tf.Tensor, center: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, center]);
  return {
    value: tf.square(tf.sub(x, center)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [kept, keptCenter] = saved as [tf.Tensor, tf.Tensor];
      return [tf.mul(dy, tf.mul(tf.sub(kept, keptCenter), 2)), tf.zerosLike(keptCenter)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor, center: tf.Tensor) => tf.Tensor;
