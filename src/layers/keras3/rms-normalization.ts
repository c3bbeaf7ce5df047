import tf from '#tfjs';
import { positiveAxis, singleShape, singleTensor } from './single-input.js';
import { badField } from '../layer-errors.js';

export interface KerasRMSNormalizationArgs {
  axis?: number | number[];
  epsilon?: number;
}

/**
 * Keras 3's RMSNormalization (Keras ≥ 3.9): x * rsqrt(mean(x², axis) + epsilon) * scale, with
 * epsilon inside the square root. One weight, 'scale' (initialized to ones), shaped like the
 * normalized axes (sorted), broadcast against the input's trailing axes as NumPy does.
 */
export class KerasRMSNormalization extends tf.layers.Layer {
  static readonly className = 'KerasRMSNormalization';
  readonly axis: number | number[];
  readonly epsilon: number;
  private scale!: tf.LayerVariable;

  constructor(args: KerasRMSNormalizationArgs & Record<string, unknown>) {
    super(args as object);
    this.axis = args.axis ?? -1;
    this.epsilon = args.epsilon ?? 1e-6;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = singleShape(inputShape);
    const axes = Array.isArray(this.axis) ? [...this.axis].sort((a, b) => a - b) : [this.axis];
    const scaleShape = axes.map((a) => shape[positiveAxis(a, shape.length)]);
    if (scaleShape.some((d) => d === null || d === undefined)) {
      throw badField(this, 'axis', `the normalized axes ${JSON.stringify(this.axis)} of the input must have known sizes`);
    }
    this.scale = this.addWeight('scale', scaleShape as number[], 'float32', tf.initializers.ones(), undefined, true);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      const inverseRms = tf.rsqrt(tf.add(tf.mean(tf.square(x), this.axis, true), this.epsilon));
      return tf.mul(tf.mul(x, inverseRms), this.scale.read());
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), axis: this.axis, epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(KerasRMSNormalization);
