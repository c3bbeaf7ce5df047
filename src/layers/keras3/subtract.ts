import tf from '#tfjs';
import { badField, unsupportedField } from '../layer-errors.js';

/** Keras 3's Subtract merge layer: inputs[0] - inputs[1], broadcasting like NumPy. */
export class KerasSubtract extends tf.layers.Layer {
  static readonly className = 'KerasSubtract';

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shapes = inputShape as tf.Shape[];
    if (!Array.isArray(shapes[0]) || shapes.length !== 2) {
      throw badField(this, 'inputs', `takes exactly 2 inputs, got ${Array.isArray(shapes[0]) ? shapes.length : 1}`);
    }
    // Keras's Merge reshapes inputs of different ranks in its own way; equal ranks broadcast as NumPy.
    if (shapes[0]!.length !== shapes[1]!.length) {
      throw unsupportedField(this, 'inputs', `inputs of different ranks (${shapes[0]!.length}, ${shapes[1]!.length}) are not supported`);
    }
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [a, b] = inputs as tf.Tensor[];
      return tf.sub(a!, b!);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [a, b] = inputShape as tf.Shape[];
    return a!.map((d, i) => (d === 1 ? b![i]! : d));
  }
}
tf.serialization.registerClass(KerasSubtract);
