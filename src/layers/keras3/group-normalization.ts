import tf from '#tfjs';
import { tfMoments } from '../../ops/moments.js';
import { positiveAxis, singleShape, singleTensor } from './single-input.js';
import { WeightSettings, type TfjsObjectArg } from './tfjs-objects.js';
import { badField } from '../layer-errors.js';

export interface KerasGroupNormalizationArgs {
  groups?: number;
  axis?: number;
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  betaInitializer?: TfjsObjectArg;
  gammaInitializer?: TfjsObjectArg;
  betaRegularizer?: TfjsObjectArg;
  gammaRegularizer?: TfjsObjectArg;
  betaConstraint?: TfjsObjectArg;
  gammaConstraint?: TfjsObjectArg;
}

/**
 * Keras 3's GroupNormalization: the channels of `axis` are split into `groups`, each normalized
 * over every axis but the batch and the group, with the biased variance, then scaled and shifted
 * per channel. As Keras computes it: inv = rsqrt(var + epsilon) * gamma,
 * out = x * inv + (beta - mean * inv). Weights: gamma (when scale), then beta (when center),
 * each of shape [channels], Keras's creation order. groups = -1 means one group per channel.
 */
export class KerasGroupNormalization extends tf.layers.Layer {
  static readonly className = 'KerasGroupNormalization';
  groups: number;
  readonly axis: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  private readonly gammaSettings: WeightSettings;
  private readonly betaSettings: WeightSettings;
  private gamma: tf.LayerVariable | null = null;
  private beta: tf.LayerVariable | null = null;

  constructor(args: KerasGroupNormalizationArgs & Record<string, unknown>) {
    super(args as object);
    this.groups = args.groups ?? 32;
    this.axis = args.axis ?? -1;
    this.epsilon = args.epsilon ?? 1e-3;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.gammaSettings = WeightSettings.read(this, args, 'gamma', 'ones');
    this.betaSettings = WeightSettings.read(this, args, 'beta', 'zeros');
    this.supportsMasking = true;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = singleShape(inputShape);
    const dim = shape[positiveAxis(this.axis, shape.length)];
    if (dim === null || dim === undefined) throw badField(this, 'axis', `axis ${this.axis} of the input must have a known size`);
    if (this.groups === -1) this.groups = dim;
    if (dim % this.groups !== 0 || dim < this.groups) {
      throw badField(this, 'groups', `${dim} channels cannot be split into ${this.groups} groups`);
    }
    if (this.scale) {
      const { initializer, regularizer, constraint } = this.gammaSettings;
      this.gamma = this.addWeight('gamma', [dim], 'float32', initializer, regularizer, true, constraint);
    }
    if (this.center) {
      const { initializer, regularizer, constraint } = this.betaSettings;
      this.beta = this.addWeight('beta', [dim], 'float32', initializer, regularizer, true, constraint);
    }
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      const axis = positiveAxis(this.axis, x.rank);
      const grouped = [...x.shape];
      grouped.splice(axis, 1, this.groups, x.shape[axis]! / this.groups);
      grouped[0] = -1;
      const reshaped = tf.reshape(x, grouped);
      const reduceAxes = [...grouped.keys()].filter((a) => a !== 0 && a !== axis);
      const { mean, variance } = tfMoments(reshaped, reduceAxes, true);
      const broadcast = grouped.map((d, a) => (a === axis || a === axis + 1 ? d : 1));
      let inv = tf.rsqrt(tf.add(variance, this.epsilon));
      if (this.gamma) inv = tf.mul(inv, tf.reshape(this.gamma.read(), broadcast));
      let shift = tf.mul(tf.neg(mean), inv);
      if (this.beta) shift = tf.add(shift, tf.reshape(this.beta.read(), broadcast));
      return tf.reshape(tf.add(tf.mul(reshaped, inv), shift), x.shape);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      groups: this.groups,
      axis: this.axis,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      ...this.betaSettings.config(),
      ...this.gammaSettings.config(),
    };
  }
}
tf.serialization.registerClass(KerasGroupNormalization);
