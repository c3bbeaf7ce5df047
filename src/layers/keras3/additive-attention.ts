import tf from '#tfjs';
import { KerasAttention, type KerasAttentionArgs } from './attention.js';

/**
 * Keras 3's AdditiveAttention (Bahdanau-style): scores = Σ scale * tanh(query + key) over the
 * feature axis, with scale a [dim] weight (use_scale, the default) or 1; the rest is Attention's.
 */
export class KerasAdditiveAttention extends KerasAttention {
  static override readonly className: string = 'KerasAdditiveAttention';

  constructor(args: Omit<KerasAttentionArgs, 'scoreMode'> & Record<string, unknown>) {
    super({ ...args, useScale: args.useScale ?? true, scoreMode: 'dot' });
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const [query] = this.inputShapes(inputShape);
    const dim = query![query!.length - 1]!;
    if (this.useScale) this.scale = this.addWeight('scale', [dim], 'float32', tf.initializers.glorotUniform({}), undefined, true);
    this.built = true;
  }

  protected override scores(query: tf.Tensor, key: tf.Tensor): tf.Tensor {
    const tanh = tf.tanh(tf.add(tf.expandDims(query, -2), tf.expandDims(key, -3)));
    return tf.sum(this.scale ? tf.mul(this.scale.read(), tanh) : tanh, -1);
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { scoreMode: _, ...config } = super.getConfig();
    return config;
  }
}
tf.serialization.registerClass(KerasAdditiveAttention);
