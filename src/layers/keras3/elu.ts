import tf from '#tfjs';
import { constantCondition } from './constant-condition.js';
import { singleTensor } from './single-input.js';

export interface KerasELUArgs extends tf.serialization.ConfigDict {
  alpha: number;
}

/**
 * Keras 3's ELU layer for any alpha: where(x > 0, elu(x), alpha * elu(x)), as Keras's TensorFlow
 * backend computes it. tfjs-layers' ELU refuses (throws for) alpha ≠ 1.
 */
export class KerasELU extends tf.layers.Layer {
  static readonly className = 'KerasELU';
  readonly alpha: number;

  constructor(args: Partial<KerasELUArgs> & Record<string, unknown>) {
    super(args as object);
    this.alpha = args.alpha ?? 1;
    this.supportsMasking = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      const elu = tf.elu(x);
      if (this.alpha === 1) return elu;
      return tf.where(constantCondition(x, (v) => tf.greater(v, 0)), elu, tf.mul(this.alpha, elu));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), alpha: this.alpha };
  }
}
tf.serialization.registerClass(KerasELU);
