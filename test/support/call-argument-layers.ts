// The TypeScript twins of fixtures/models/call_argument_models.py's custom layers, as a user writes
// them: call() reads its Python call()'s tensor keyword arguments (mask=, scale=) from kwargs, where
// keras-bridge's CallArguments adapter puts them (under tfjs's camelCase names).
import tf from '#tfjs';
import { registerLayer } from '../../src/registry/custom-layer-registry.js';

const first = (x: tf.Tensor | tf.Tensor[]): tf.Tensor => (Array.isArray(x) ? x[0]! : x);
const shapeOf = (s: tf.Shape | tf.Shape[]): tf.Shape => (Array.isArray(s[0]) ? s[0] : s) as tf.Shape;

/** The mean over time of the steps `mask` keeps. */
export class MaskedMean extends tf.layers.Layer {
  static readonly className = 'MaskedMean';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { mask?: tf.Tensor }): tf.Tensor {
    return tf.tidy(() => {
      const x = first(inputs);
      const weight = tf.expandDims(tf.cast(kwargs.mask!, x.dtype), -1);
      return tf.div(tf.sum(tf.mul(x, weight), 1), tf.maximum(tf.sum(weight, 1), 1));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = shapeOf(inputShape);
    return [shape[0]!, shape[2]!];
  }
}

/** x * scale + shift. */
export class ScaledShift extends tf.layers.Layer {
  static readonly className = 'ScaledShift';
  private shift!: tf.LayerVariable;

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = shapeOf(inputShape);
    this.shift = this.addWeight('shift', [shape[shape.length - 1]!], 'float32', tf.initializers.randomNormal({}));
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { scale?: tf.Tensor }): tf.Tensor {
    return tf.tidy(() => tf.add(tf.mul(first(inputs), kwargs.scale!), this.shift.read()));
  }
}

registerLayer('MaskedMean', MaskedMean);
registerLayer('ScaledShift', ScaledShift);
