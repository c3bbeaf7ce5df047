import tf from '#tfjs';
import { firstTensor } from './swish-activation.js';

/**
 * The seed's CustomRiskLayer. In Python it runs np.mean(x, axis=1, keepdims=True) inside
 * tf.py_function, which Keras cannot differentiate; here it is tf.mean, which tfjs can.
 */
export class CustomRiskLayer extends tf.layers.Layer {
  static readonly className = 'CustomRiskLayer';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.mean(firstTensor(inputs), 1, true));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0]!, 1, ...shape.slice(2)];
  }
}
