import tf from '#tfjs';

/** The seed's SwishActivation: x * sigmoid(x), no weights. */
export class SwishActivation extends tf.layers.Layer {
  static readonly className = 'SwishActivation';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = firstTensor(inputs);
      return tf.mul(x, tf.sigmoid(x));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }
}

export function firstTensor(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0]! : inputs;
}
