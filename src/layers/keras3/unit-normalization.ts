import tf from '#tfjs';
import { singleTensor } from './single-input.js';

export interface KerasUnitNormalizationArgs {
  axis?: number | number[];
}

/** Keras's lower bound on the L2 norm: inv_norm is capped at 1 / 1e-12. */
const EPSILON = 1e-12;

/**
 * Keras 3's UnitNormalization: x * min(rsqrt(sum(x², axis)), 1 / 1e-12), Keras's L2 special case
 * of ops.normalize (x * rsqrt rather than x / norm).
 */
export class KerasUnitNormalization extends tf.layers.Layer {
  static readonly className = 'KerasUnitNormalization';
  readonly axis: number | number[];

  constructor(args: KerasUnitNormalizationArgs & Record<string, unknown>) {
    super(args as object);
    this.axis = args.axis ?? -1;
    this.supportsMasking = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      const inverseNorm = tf.rsqrt(tf.sum(tf.square(x), this.axis, true));
      return tf.mul(x, tf.minimum(inverseNorm, 1 / EPSILON));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), axis: this.axis };
  }
}
tf.serialization.registerClass(KerasUnitNormalization);
