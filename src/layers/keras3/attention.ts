import tf from '#tfjs';
import { random } from '../../training/replayable-random.js';
import { badField } from '../layer-errors.js';

export interface KerasAttentionArgs {
  useScale?: boolean;
  scoreMode?: 'dot' | 'concat';
  dropout?: number;
  seed?: number | null;
  /** Keras's call option, kept in the config: tfjs-layers' predict() drops per-node call kwargs. */
  useCausalMask?: boolean;
}

interface AttentionCallOptions {
  training?: boolean;
  mask?: tf.Tensor | (tf.Tensor | null)[] | null;
  useCausalMask?: boolean;
}

/** What Keras subtracts from masked scores (float32). */
const MASK_PENALTY = 1e9;

/**
 * Keras 3's Attention (Luong-style), called on [query, value] or [query, value, key], without
 * masks: scores = query·keyᵀ (times scale with use_scale), or for score_mode 'concat'
 * concat_score_weight * Σ tanh(scale * (query + key)); masked scores get 1e9 *subtracted*;
 * softmax over the value axis; in training, keras.random.dropout on the weights; the result is
 * weights·value. Weights, when present: scale (a
 * scalar), then concat_score_weight (a scalar).
 */
export class KerasAttention extends tf.layers.Layer {
  static readonly className: string = 'KerasAttention';
  readonly useScale: boolean;
  readonly scoreMode: 'dot' | 'concat';
  readonly dropout: number;
  readonly seed: number | null;
  readonly useCausalMask: boolean;
  protected scale: tf.LayerVariable | null = null;
  private concatScoreWeight: tf.LayerVariable | null = null;

  constructor(args: KerasAttentionArgs & Record<string, unknown>) {
    super(args as object);
    this.useScale = args.useScale ?? false;
    this.scoreMode = args.scoreMode ?? 'dot';
    this.dropout = args.dropout ?? 0;
    this.seed = args.seed ?? null;
    this.useCausalMask = args.useCausalMask ?? false;
    if (this.scoreMode !== 'dot' && this.scoreMode !== 'concat') {
      throw badField(this, 'score_mode', `'${String(this.scoreMode)}' is not 'dot' or 'concat'`);
    }
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    this.inputShapes(inputShape);
    const ones = tf.initializers.ones();
    if (this.useScale) this.scale = this.addWeight('scale', [], 'float32', ones, undefined, true);
    if (this.scoreMode === 'concat') this.concatScoreWeight = this.addWeight('concat_score_weight', [], 'float32', ones, undefined, true);
    this.built = true;
  }

  protected inputShapes(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
    const shapes = inputShape as tf.Shape[];
    if (!Array.isArray(shapes[0]) || shapes.length < 2 || shapes.length > 3) {
      throw badField(this, 'inputs', 'takes a list [query, value] or [query, value, key]');
    }
    return shapes;
  }

  /** Scores [batch, Tq, Tv] of each query step against each key step. */
  protected scores(query: tf.Tensor, key: tf.Tensor): tf.Tensor {
    if (this.scoreMode === 'dot') {
      const scores = tf.matMul(query, key, false, true);
      return this.scale ? tf.mul(scores, this.scale.read()) : scores;
    }
    let sum = tf.add(tf.expandDims(query, -2), tf.expandDims(key, -3));
    if (this.scale) sum = tf.mul(this.scale.read(), sum);
    return tf.mul(this.concatScoreWeight!.read(), tf.sum(tf.tanh(sum), -1));
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: AttentionCallOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      const [query, value, key = value] = inputs as tf.Tensor[];
      // Keras's mask=[query_mask, value_mask]: padded value steps get no weight, padded query steps output 0.
      const [queryMask, valueMask] = Array.isArray(kwargs.mask) ? kwargs.mask : [null, null];
      let scores = this.scores(query!, key!);
      const [tq, tv] = scores.shape.slice(-2) as [number, number];
      let keep: tf.Tensor | null = valueMask ? tf.expandDims(tf.cast(valueMask, 'bool'), -2) : null;
      if (kwargs.useCausalMask ?? this.useCausalMask) {
        const past = tf.greaterEqual(tf.reshape(tf.range(0, tq, 1, 'int32'), [tq, 1]), tf.reshape(tf.range(0, tv, 1, 'int32'), [1, tv]));
        keep = keep ? tf.logicalAnd(keep, past) : past;
      }
      if (keep) scores = tf.where(tf.broadcastTo(keep, scores.shape), scores, tf.sub(scores, MASK_PENALTY));
      let weights = tf.softmax(scores);
      if (kwargs.training && this.dropout > 0) weights = random.dropout(weights, this.dropout, weights.shape, this.seed ?? undefined);
      const attended = tf.matMul(weights, value!);
      return queryMask ? tf.mul(attended, tf.expandDims(tf.cast(queryMask, attended.dtype), -1)) : attended;
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [query, value] = this.inputShapes(inputShape);
    return [...query!.slice(0, -1), value![value!.length - 1]!];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      useScale: this.useScale,
      scoreMode: this.scoreMode,
      dropout: this.dropout,
      seed: this.seed,
      useCausalMask: this.useCausalMask,
    };
  }
}
tf.serialization.registerClass(KerasAttention);
