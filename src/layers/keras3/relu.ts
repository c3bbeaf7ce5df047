import tf from '#tfjs';
import { constantCondition } from './constant-condition.js';
import { singleTensor } from './single-input.js';

export interface KerasReLUArgs extends tf.serialization.ConfigDict {
  maxValue: number | null;
  negativeSlope: number;
  threshold: number;
}

/**
 * Keras 3's ReLU layer with all three options (tfjs-layers' ReLU has max_value only):
 * x for x > threshold, negative_slope * (x - threshold) below it, clipped at max_value; computed
 * in the order of Keras's ReLU.static_call so that rounding matches too.
 */
export class KerasReLU extends tf.layers.Layer {
  static readonly className = 'KerasReLU';
  readonly maxValue: number | null;
  readonly negativeSlope: number;
  readonly threshold: number;

  constructor(args: Partial<KerasReLUArgs> & Record<string, unknown>) {
    super(args as object);
    this.maxValue = args.maxValue ?? null;
    this.negativeSlope = args.negativeSlope ?? 0;
    this.threshold = args.threshold ?? 0;
    this.supportsMasking = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      const { maxValue, negativeSlope, threshold } = this;
      if (negativeSlope !== 0 && maxValue === null && threshold === 0) return tf.leakyRelu(x, negativeSlope);
      let y: tf.Tensor;
      let clip = maxValue !== null;
      if (threshold !== 0) {
        y = tf.where(constantCondition(x, (v) => tf.greater(v, threshold)), x, tf.zerosLike(x));
      } else if (maxValue === 6) {
        y = tf.relu6(x);
        clip = false;
      } else {
        y = tf.relu(x);
      }
      if (clip) y = tf.clipByValue(y, 0, maxValue!);
      if (negativeSlope === 0) return y;
      const negativePart = tf.relu(threshold !== 0 ? tf.add(tf.neg(x), threshold) : tf.neg(x));
      return tf.sub(y, tf.mul(negativeSlope, negativePart));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), maxValue: this.maxValue, negativeSlope: this.negativeSlope, threshold: this.threshold };
  }
}
tf.serialization.registerClass(KerasReLU);
