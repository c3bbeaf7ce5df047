import tf from '#tfjs';
import { normalizeWithOperations } from '../../ops/layer-normalization.js';
import { normalizeInKernels } from './layer-normalization-kernels.js';
import { positiveAxis, singleShape, singleTensor } from './single-input.js';
import { WeightSettings, type TfjsObjectArg } from './tfjs-objects.js';
import { badField } from '../layer-errors.js';

export interface KerasLayerNormalizationArgs {
  axis?: number | number[];
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  betaInitializer?: TfjsObjectArg;
  gammaInitializer?: TfjsObjectArg;
}

/**
 * Keras 3's layer normalization (ops.layer_normalization), over `axes` (biased variance):
 * inv = rsqrt(var + epsilon) * gamma, out = x * inv + (beta - mean * inv). gamma and beta, when
 * given, are shaped like the input along `axes`; they broadcast, nothing is tiled to the input's shape.
 */
export function normalizeAsKeras(x: tf.Tensor, axes: readonly number[], epsilon: number, gamma: tf.Tensor | null, beta: tf.Tensor | null): tf.Tensor {
  return normalizeInKernels(x, axes, epsilon, gamma, beta) ?? normalizeWithOperations(x, axes, epsilon, gamma, beta);
}

/**
 * Keras 3's LayerNormalization without gamma or beta (scale/center false), which tfjs-layers 4.22
 * computes right but cannot differentiate: its FusedBatchNorm gradient crashes on the missing
 * tensor. As Keras computes it, over the axes in `axis` (biased variance):
 * inv = rsqrt(var + epsilon) * gamma, out = x * inv + (beta - mean * inv). Weights: gamma (scale),
 * beta (center), each shaped like the input along `axis`, in the order `axis` lists them.
 */
export class KerasLayerNormalization extends tf.layers.Layer {
  static readonly className = 'KerasLayerNormalization';
  readonly axis: number | number[];
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  private readonly settings: Record<'gamma' | 'beta', WeightSettings>;
  private gamma: tf.LayerVariable | null = null;
  private beta: tf.LayerVariable | null = null;

  constructor(args: KerasLayerNormalizationArgs & Record<string, unknown>) {
    super(args as object);
    this.axis = args.axis ?? -1;
    this.epsilon = args.epsilon ?? 1e-3;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.settings = { gamma: WeightSettings.read(this, args, 'gamma', 'ones'), beta: WeightSettings.read(this, args, 'beta', 'zeros') };
    this.supportsMasking = true;
  }

  private axes(rank: number): number[] {
    return (Array.isArray(this.axis) ? this.axis : [this.axis]).map((a) => positiveAxis(a, rank));
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = singleShape(inputShape);
    const paramShape = this.axes(shape.length).map((a) => shape[a]);
    if (paramShape.some((d) => d === null || d === undefined)) {
      throw badField(this, 'axis', `the input must have a known size along axis ${JSON.stringify(this.axis)}`);
    }
    const weight = (name: string, settings: WeightSettings) =>
      this.addWeight(name, paramShape as number[], 'float32', settings.initializer, settings.regularizer, true, settings.constraint);
    if (this.scale) this.gamma = weight('gamma', this.settings.gamma);
    if (this.center) this.beta = weight('beta', this.settings.beta);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = singleTensor(inputs);
    return normalizeAsKeras(x, this.axes(x.rank), this.epsilon, this.gamma?.read() ?? null, this.beta?.read() ?? null);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      axis: this.axis,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      ...this.settings.gamma.config(),
      ...this.settings.beta.config(),
    };
  }
}
tf.serialization.registerClass(KerasLayerNormalization);
