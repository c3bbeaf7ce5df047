import tf from '#tfjs';
import { positiveAxis, singleShape, singleTensor } from './single-input.js';
import { badField } from '../layer-errors.js';

type NestedNumbers = number | NestedNumbers[];

export interface KerasNormalizationArgs {
  /** The axes that keep their own mean and variance; [] normalizes with one scalar pair. */
  axis?: number | number[] | null;
  /** Given in the config: no weights. Absent (null): adapted values, loaded as weights. */
  mean?: NestedNumbers | null;
  variance?: NestedNumbers | null;
  invert?: boolean;
}

/** Keras's backend.epsilon(), the floor of the standard deviation. */
const EPSILON = 1e-7;

/**
 * Keras 3's Normalization preprocessing layer: (x - mean) / max(sqrt(variance), 1e-7), or with
 * invert, mean + x * max(sqrt(variance), 1e-7). Keras keeps mean and variance in the config when
 * they were passed to the constructor (no weights), and as non-trainable weights 'mean',
 * 'variance' (shaped like the kept axes) and 'count' (a scalar int) after adapt().
 */
export class KerasNormalization extends tf.layers.Layer {
  static readonly className = 'KerasNormalization';
  readonly axis: number[];
  readonly mean: NestedNumbers | null;
  readonly variance: NestedNumbers | null;
  readonly invert: boolean;
  private broadcastShape: number[] = [];
  /** From the config, already broadcast; or the adapted weights, shaped like the kept axes. */
  private constants: { mean: tf.Tensor; variance: tf.Tensor } | null = null;
  private weightsOf: { mean: tf.LayerVariable; variance: tf.LayerVariable } | null = null;

  constructor(args: KerasNormalizationArgs & Record<string, unknown>) {
    super(args as object);
    const axis = args.axis ?? [];
    this.axis = Array.isArray(axis) ? axis : [axis];
    this.mean = args.mean ?? null;
    this.variance = args.variance ?? null;
    this.invert = args.invert ?? false;
    if ((this.mean === null) !== (this.variance === null)) {
      throw badField(this, this.mean === null ? 'mean' : 'variance', 'give both mean and variance, or neither (then they are weights)');
    }
    this.supportsMasking = true;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = singleShape(inputShape);
    const keep = this.axis.map((a) => positiveAxis(a, shape.length)).sort((a, b) => a - b);
    this.broadcastShape = shape.map((d, axis) => (keep.includes(axis) ? d! : 1));
    if (this.mean === null) {
      const statShape = keep.map((axis) => shape[axis]!);
      const zeros = tf.initializers.zeros();
      this.weightsOf = {
        mean: this.addWeight('mean', statShape, 'float32', zeros, undefined, false),
        variance: this.addWeight('variance', statShape, 'float32', tf.initializers.ones(), undefined, false),
      };
      this.addWeight('count', [], 'int32', zeros, undefined, false);
    } else {
      this.constants = tf.tidy(() => ({
        mean: tf.keep(this.expand(tf.tensor(this.mean!), keep)),
        variance: tf.keep(this.expand(tf.tensor(this.variance!), keep)),
      }));
    }
    this.built = true;
  }

  /** A config mean or variance placed on the kept axes (trailing ones first), as Keras's build(). */
  private expand(values: tf.Tensor, keep: number[]): tf.Tensor {
    if (values.rank === 0) return tf.broadcastTo(values, this.broadcastShape);
    const expanded = this.broadcastShape.map(() => 1);
    for (let i = 1; i <= values.rank; i++) expanded[keep[keep.length - i]!] = values.shape[values.rank - i]!;
    return tf.broadcastTo(tf.reshape(values, expanded), this.broadcastShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      const { mean, variance } = this.weightsOf
        ? { mean: tf.reshape(this.weightsOf.mean.read(), this.broadcastShape), variance: tf.reshape(this.weightsOf.variance.read(), this.broadcastShape) }
        : this.constants!;
      const std = tf.maximum(tf.sqrt(variance), EPSILON);
      return this.invert ? tf.add(mean, tf.mul(x, std)) : tf.div(tf.sub(x, mean), std);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), axis: this.axis, mean: this.mean, variance: this.variance, invert: this.invert };
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    if (this.constants) tf.dispose([this.constants.mean, this.constants.variance]);
    return super.dispose();
  }
}
tf.serialization.registerClass(KerasNormalization);
