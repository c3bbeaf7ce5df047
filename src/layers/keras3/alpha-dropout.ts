import tf from '#tfjs';
import { random } from '../../training/replayable-random.js';
import { singleTensor } from './single-input.js';

export interface KerasAlphaDropoutArgs {
  rate: number;
  noiseShape?: Array<number | null> | null;
  seed?: number | null;
}

const ALPHA = 1.6732632423543772848170429916717;
const SCALE = 1.0507009873554804934193349852946;

/**
 * Keras 3's AlphaDropout: the identity at inference; in training, dropped units are set to
 * alpha_p = -alpha * scale (SELU's negative saturation) and the result is rescaled so that mean and
 * variance are kept: a * (x * kept + alpha_p * (1 - kept)) + b. tfjs-layers 4.22's AlphaDropout
 * sets dropped units to -alpha_p instead ((kept - 1) * alpha_p), which a training-mode parity
 * check shows (an error of about 3 on dropped units).
 */
export class KerasAlphaDropout extends tf.layers.Layer {
  static readonly className = 'KerasAlphaDropout';
  readonly rate: number;
  readonly noiseShape: Array<number | null> | null;
  readonly seed: number | null;

  constructor(args: KerasAlphaDropoutArgs & Record<string, unknown>) {
    super(args as object);
    this.rate = args.rate;
    this.noiseShape = args.noiseShape ?? null;
    this.seed = args.seed ?? null;
    this.supportsMasking = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean } = {}): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      if (!kwargs.training || this.rate <= 0) return tf.clone(x);
      const noiseShape = this.noiseShape ? this.noiseShape.map((d, axis) => d ?? x.shape[axis]!) : x.shape;
      const alphaP = -ALPHA * SCALE;
      const kept = tf.cast(tf.greaterEqual(random.uniform(noiseShape, 0, 1, this.seed ?? undefined), this.rate), 'float32');
      const a = ((1 - this.rate) * (1 + this.rate * alphaP ** 2)) ** -0.5;
      const b = -a * alphaP * this.rate;
      const dropped = tf.add(tf.mul(x, kept), tf.mul(tf.sub(1, kept), alphaP));
      return tf.add(tf.mul(dropped, a), b);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, noiseShape: this.noiseShape, seed: this.seed };
  }
}
tf.serialization.registerClass(KerasAlphaDropout);
