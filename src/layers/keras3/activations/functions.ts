import tf from '#tfjs';
import { constantCondition } from '../constant-condition.js';
import { InputError } from '../../../errors.js';

// Keras 3 activation functions that tfjs-layers lacks or computes differently, written as Keras's
// TensorFlow backend computes them (keras/src/backend/tensorflow/nn.py), with the defaults a
// Keras activation *name* implies: a config can only say 'leaky_relu', never its arguments.
// Branch conditions go through constantCondition, since tfjs cannot differentiate comparisons.
const is = constantCondition;

export const exponential = (x: tf.Tensor): tf.Tensor => tf.exp(x);

/** relu6(x + 3) / 6; tfjs's hardSigmoid is clip(0.2x + 0.5, 0, 1), Keras 2's definition. */
export const hardSigmoid = (x: tf.Tensor): tf.Tensor => tf.div(tf.relu6(tf.add(x, 3)), 6);

export const hardSilu = (x: tf.Tensor): tf.Tensor => tf.mul(x, hardSigmoid(x));

/** Keras 3's function default negative_slope is 0.2 (the LeakyReLU *layer*'s is 0.3). */
export const leakyRelu = (x: tf.Tensor): tf.Tensor => tf.leakyRelu(x, 0.2);

/** -softplus(-x), like tf.math.log_sigmoid (tfjs 4.22's tf.logSigmoid fails under tf.grad). */
export const logSigmoid = (x: tf.Tensor): tf.Tensor => tf.neg(tf.softplus(tf.neg(x)));

/** alpha = 1: max(x, 0) + expm1(min(x, 0) / alpha). */
export const celu = (x: tf.Tensor): tf.Tensor => tf.add(tf.maximum(x, 0), tf.expm1(tf.minimum(x, 0)));

/** Halves the last axis: first half * sigmoid(second half). */
export function glu(x: tf.Tensor): tf.Tensor {
  const size = x.shape[x.rank - 1]!;
  if (size % 2 !== 0) throw new InputError(`glu activation: the last axis (${size}) must have an even size`);
  const [a, b] = tf.split(x, 2, -1);
  return tf.mul(a!, tf.sigmoid(b!));
}

/** b = 4: (x + sqrt(x² + b)) / 2. */
export const squareplus = (x: tf.Tensor): tf.Tensor => tf.div(tf.add(x, tf.sqrt(tf.add(tf.square(x), 4))), 2);

/** 0 for x <= -1, (x + 1)² / 4 for -1 < x < 1, x for x >= 1. */
export const sparsePlus = (x: tf.Tensor): tf.Tensor =>
  tf.where(is(x, (v) => tf.lessEqual(v, -1)), tf.zerosLike(x), tf.where(is(x, (v) => tf.less(v, 1)), tf.mul(0.25, tf.square(tf.add(x, 1))), x));

/** 0 for x <= -1, (x + 1) / 2 for -1 < x < 1, 1 for x >= 1. */
export const sparseSigmoid = (x: tf.Tensor): tf.Tensor =>
  tf.where(is(x, (v) => tf.lessEqual(v, -1)), tf.zerosLike(x), tf.where(is(x, (v) => tf.greaterEqual(v, 1)), tf.onesLike(x), tf.mul(0.5, tf.add(x, 1))));

/** threshold = 0.5: x - 0.5 above it, x + 0.5 below -0.5, 0 between. */
export const softShrink = (x: tf.Tensor): tf.Tensor =>
  tf.where(is(x, (v) => tf.greater(v, 0.5)), tf.sub(x, 0.5), tf.where(is(x, (v) => tf.less(v, -0.5)), tf.add(x, 0.5), tf.zerosLike(x)));

/** threshold = 0.5: x where |x| > 0.5, else 0. */
export const hardShrink = (x: tf.Tensor): tf.Tensor => tf.where(is(x, (v) => tf.greater(tf.abs(v), 0.5)), x, tf.zerosLike(x));

export const tanhShrink = (x: tf.Tensor): tf.Tensor => tf.sub(x, tf.tanh(x));

export const hardTanh = (x: tf.Tensor): tf.Tensor => tf.clipByValue(x, -1, 1);

/**
 * Keras 3's sparsemax over the last axis, which is not the paper's: with the logits sorted in
 * descending order z₍₁₎ ≥ z₍₂₎ ≥ …, cumulative sums c_r and support size k (the r with
 * z₍r₎ > (c_r - 1) / r), Keras takes τ = (c₁ + … + c_k - 1) / k where the paper has
 * (c_k - 1) / k; every Keras backend does so, so outputs need not sum to 1. We compute the same
 * τ without sorting: the rank of x_i is the count of x_j ≥ x_i and its cumulative sum is the sum
 * of those x_j, which keeps the function differentiable with tfjs's kernels.
 */
export function sparsemax(x: tf.Tensor): tf.Tensor {
  const atLeast = tf.cast(is(x, (v) => tf.greaterEqual(tf.expandDims(v, -2), tf.expandDims(v, -1))), 'float32');
  const rank = tf.sum(atLeast, -1);
  const cumulative = tf.sum(tf.mul(atLeast, tf.expandDims(x, -2)), -1);
  const inSupport = is(x, (v) => tf.greater(tf.sub(v, tf.div(tf.sub(cumulative, 1), rank)), 0));
  const k = tf.sum(tf.cast(inSupport, 'float32'), -1, true);
  const tau = tf.div(tf.sub(tf.sum(tf.where(inSupport, cumulative, tf.zerosLike(x)), -1, true), 1), k);
  return tf.maximum(tf.sub(x, tau), 0);
}
