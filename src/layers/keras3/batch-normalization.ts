import tf from '#tfjs';
import { tfMoments } from '../../ops/moments.js';
import { positiveAxis, singleShape, singleTensor } from './single-input.js';
import { WeightSettings, type TfjsObjectArg } from './tfjs-objects.js';
import { badField } from '../layer-errors.js';

export interface KerasBatchNormalizationArgs {
  axis?: number;
  momentum?: number;
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  betaInitializer?: TfjsObjectArg;
  gammaInitializer?: TfjsObjectArg;
  movingMeanInitializer?: TfjsObjectArg;
  movingVarianceInitializer?: TfjsObjectArg;
}

/**
 * Keras 3's BatchNormalization, for the configurations whose gradients tfjs-layers 4.22 gets
 * wrong: its FusedBatchNorm gradient crashes without gamma or beta (center/scale false) and does
 * not reduce gamma's and beta's gradients over the other axes when `axis` is not the last one.
 * As Keras computes it: inv = rsqrt(var + epsilon) * gamma, out = x * inv + (beta - mean * inv),
 * with the moving statistics at inference and the batch's in training (which also moves them:
 * moving = moving * momentum + batch * (1 - momentum)). Weights in Keras's order: gamma (scale),
 * beta (center), moving_mean, moving_variance (not trainable), each [channels]. As in Keras 3, a
 * frozen layer (trainable false) computes as at inference even when training (tfjs-layers' uses
 * the batch's statistics and moves its own).
 */
export class KerasBatchNormalization extends tf.layers.Layer {
  static readonly className: string = 'KerasBatchNormalization';
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  private readonly settings: Record<'gamma' | 'beta' | 'movingMean' | 'movingVariance', WeightSettings>;
  gamma: tf.LayerVariable | null = null;
  beta: tf.LayerVariable | null = null;
  movingMean!: tf.LayerVariable;
  movingVariance!: tf.LayerVariable;

  constructor(args: KerasBatchNormalizationArgs & Record<string, unknown>) {
    super(args as object);
    this.axis = args.axis ?? -1;
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.settings = {
      gamma: WeightSettings.read(this, args, 'gamma', 'ones'),
      beta: WeightSettings.read(this, args, 'beta', 'zeros'),
      movingMean: WeightSettings.read(this, args, 'movingMean', 'zeros'),
      movingVariance: WeightSettings.read(this, args, 'movingVariance', 'ones'),
    };
    this.supportsMasking = true;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = singleShape(inputShape);
    const dim = shape[positiveAxis(this.axis, shape.length)];
    if (dim === null || dim === undefined) throw badField(this, 'axis', `axis ${this.axis} of the input must have a known size`);
    const weight = (name: string, settings: WeightSettings, trainable: boolean) =>
      this.addWeight(name, [dim], 'float32', settings.initializer, settings.regularizer, trainable, settings.constraint);
    if (this.scale) this.gamma = weight('gamma', this.settings.gamma, true);
    if (this.center) this.beta = weight('beta', this.settings.beta, true);
    this.movingMean = weight('moving_mean', this.settings.movingMean, false);
    this.movingVariance = weight('moving_variance', this.settings.movingVariance, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return batchNormalizeAsKeras(this, singleTensor(inputs), kwargs['training'] === true);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      ...this.settings.gamma.config(),
      ...this.settings.beta.config(),
      ...this.settings.movingMean.config(),
      ...this.settings.movingVariance.config(),
    };
  }
}
tf.serialization.registerClass(KerasBatchNormalization);

/** What Keras's batch normalization reads of a layer: KerasBatchNormalization's fields, and tfjs-layers' BatchNormalization's. */
export interface BatchNormalizationFields {
  axis: number;
  momentum: number;
  epsilon: number;
  trainable: boolean;
  gamma?: tf.LayerVariable | null;
  beta?: tf.LayerVariable | null;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

/**
 * Keras 3's BatchNormalization.call: inv = rsqrt(var + epsilon) * gamma, x * inv + (beta - mean *
 * inv), with the moving statistics at inference, and in training (a trainable layer only, as in
 * Keras 3) the batch's, from tf.nn.moments (tfMoments), which also move the moving ones:
 * moving * momentum + batch * (1 - momentum).
 */
export function batchNormalizeAsKeras(layer: BatchNormalizationFields, x: tf.Tensor, training: boolean): tf.Tensor {
  return tf.tidy(() => {
    const axis = positiveAxis(layer.axis, x.rank);
    const broadcast = x.shape.map((d, a) => (a === axis ? d : 1));
    const asBroadcast = (v: tf.LayerVariable | null | undefined) => (v ? tf.reshape(v.read(), broadcast) : null);
    let mean = asBroadcast(layer.movingMean)!;
    let variance = asBroadcast(layer.movingVariance)!;
    if (training && layer.trainable) {
      ({ mean, variance } = tfMoments(x, [...x.shape.keys()].filter((a) => a !== axis), true));
      moveTowards(layer.movingMean, mean, layer.momentum);
      moveTowards(layer.movingVariance, variance, layer.momentum);
    }
    let inv = tf.rsqrt(tf.add(variance, layer.epsilon));
    const gamma = asBroadcast(layer.gamma);
    if (gamma) inv = tf.mul(inv, gamma);
    let shift = tf.mul(tf.neg(mean), inv);
    const beta = asBroadcast(layer.beta);
    if (beta) shift = tf.add(shift, beta);
    return tf.add(tf.mul(x, inv), shift);
  });
}

function moveTowards(moving: tf.LayerVariable, batch: tf.Tensor, momentum: number): void {
  const updated = tf.add(tf.mul(moving.read(), momentum), tf.mul(tf.reshape(batch, moving.shape as number[]), 1 - momentum));
  moving.write(updated);
}
