import tf from '#tfjs';
import { constantCondition } from './constant-condition.js';
import { positiveAxis, singleTensor } from './single-input.js';

export interface KerasSoftmaxArgs extends tf.serialization.ConfigDict {
  axis: number | number[];
}

/** Keras's large negative for float32 logits at masked positions. */
const MASKED_LOGIT = -1e9;

/**
 * Keras 3's Softmax layer. Without a mask it is tfjs's softmax (exp(x - logsumexp) over several
 * axes); with a mask it follows Keras, not tfjs-layers' Softmax: masked logits are *replaced* by
 * -1e9 (tfjs adds -1e9 to them) and masked outputs are set to 0 afterwards (tfjs leaves them), so
 * a fully masked row gives zeros rather than a uniform distribution.
 */
export class KerasSoftmax extends tf.layers.Layer {
  static readonly className = 'KerasSoftmax';
  readonly axis: number | number[];

  constructor(args: Partial<KerasSoftmaxArgs> & Record<string, unknown>) {
    super(args as object);
    this.axis = args.axis ?? -1;
    this.supportsMasking = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { mask?: tf.Tensor } = {}): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      if (!kwargs.mask) return kerasSoftmax(x, this.axis);
      const mask = tf.broadcastTo(constantCondition(kwargs.mask, (m) => (m.dtype === 'bool' ? m : tf.greater(m, 0.5))), x.shape);
      const probabilities = kerasSoftmax(tf.where(mask, x, tf.fill(x.shape, MASKED_LOGIT)), this.axis);
      return tf.where(mask, probabilities, tf.zerosLike(probabilities));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), axis: this.axis };
  }
}
tf.serialization.registerClass(KerasSoftmax);

/** Softmax over one axis, or exp(x - logsumexp(x)) over several, as Keras's Softmax layer. */
export function kerasSoftmax(x: tf.Tensor, axis: number | number[]): tf.Tensor {
  if (!Array.isArray(axis)) return softmaxAlong(x, axis);
  if (axis.length === 1) return softmaxAlong(x, axis[0]!);
  return tf.exp(tf.sub(x, tf.logSumExp(x, axis, true)));
}

/** tf.softmax over any axis: tfjs's only takes the last one, so others are swapped with it. */
export function softmaxAlong(x: tf.Tensor, axis: number): tf.Tensor {
  const last = x.rank - 1;
  const a = positiveAxis(axis, x.rank);
  if (a === last) return tf.softmax(x);
  const perm = [...x.shape.keys()];
  [perm[a], perm[last]] = [last, a];
  return tf.transpose(tf.softmax(tf.transpose(x, perm)), perm);
}
