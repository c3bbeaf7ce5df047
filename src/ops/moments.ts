import * as tf from '@tensorflow/tfjs';
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
    const variance = tf.mean(tf.square(tf.sub(x, stopGradient(mean))), axes, keepDims);
    return { mean: keepDims ? mean : tf.squeeze(mean, axes), variance };
  });
}
