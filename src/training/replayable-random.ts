import tf from '#tfjs';

/**
 * Random numbers that parity checks can replay: keras-bridge's counterpart of `keras.random`.
 * A layer that draws through `random` (instead of tf.randomNormal, tf.dropout, ...) draws fresh
 * numbers in normal use, and in a training-mode parity check gets exactly the draws Keras made
 * for the same layer call, recorded in the bundle. Each function takes the *standard* draw
 * (U[0, 1) or N(0, 1)) and applies its own parameters, as the exporter does
 * (python/keras_bridge/random_draws.py), so a wrong rate or stddev still shows.
 *
 *   import { random } from 'keras-bridge/runtime';
 *   call(inputs, kwargs) { return kwargs.training ? tf.add(x, random.normal(x.shape, 0, this.stddev)) : x; }
 */
export const random = {
  /** A float32 keep mask (1 kept, 0 dropped) of `shape`: 1 where u >= rate, as TensorFlow's dropout. */
  dropoutMask(shape: number[], rate: number, seed?: number): tf.Tensor {
    return tf.tidy(() => tf.cast(keep(shape, rate, seed), 'float32'));
  },
  /**
   * `keras.random.dropout`: x * (1 / (1 - rate)) where kept, 0 where dropped, one mask of
   * `noiseShape` (default x's shape) broadcast over x. (tf.dropout divides by 1 - rate instead,
   * which can differ from Keras in the last bit.)
   */
  dropout(x: tf.Tensor, rate: number, noiseShape: number[] = x.shape, seed?: number): tf.Tensor {
    return tf.tidy(() => {
      const scaled = tf.mul(x, tf.scalar(1 / (1 - rate)));
      return tf.where(tf.broadcastTo(keep(noiseShape, rate, seed), x.shape), scaled, tf.zerosLike(scaled));
    });
  },
  /** U[minval, maxval) as u * (maxval - minval) + minval. */
  uniform(shape: number[], minval = 0, maxval = 1, seed?: number): tf.Tensor {
    return tf.tidy(() => tf.add(tf.mul(standardDraw('uniform', shape, () => tf.randomUniform(shape, 0, 1, 'float32', seed)), maxval - minval), minval));
  },
  /** N(mean, stddev²) as z * stddev + mean. */
  normal(shape: number[], mean = 0, stddev = 1, seed?: number): tf.Tensor {
    return tf.tidy(() => tf.add(tf.mul(standardDraw('normal', shape, () => tf.randomNormal(shape, 0, 1, 'float32', seed)), stddev), mean));
  },
  /** N(mean, stddev²) truncated to two standard deviations. */
  truncatedNormal(shape: number[], mean = 0, stddev = 1, seed?: number): tf.Tensor {
    return tf.tidy(() => tf.add(tf.mul(standardDraw('truncated_normal', shape, () => tf.truncatedNormal(shape, 0, 1, 'float32', seed)), stddev), mean));
  },
};

export type RandomFunction = 'dropout' | 'uniform' | 'normal' | 'truncated_normal';

/** Where draws come from while a replay is active, for one call of one layer. */
export interface DrawSource {
  /** The recorded standard draw for what the layer asks for, or a ReplayMismatchError. */
  draw(request: { function: RandomFunction; shape: number[] }): tf.Tensor;
  /** The source for one call of the layer's sub-layer `name` (see inSubLayer). */
  subLayer(name: string): DrawSource;
}

let source: DrawSource | null = null;

/** Runs `fn` with draws taken from `drawSource` (nested calls see the innermost source). */
export function withDrawSource<T>(drawSource: DrawSource | null, fn: () => T): T {
  const previous = source;
  source = drawSource;
  try {
    return fn();
  } finally {
    source = previous;
  }
}

/**
 * Runs `fn` as one call of the calling layer's sub-layer `name`: where Keras draws inside a layer
 * that the Keras layer owns (MultiHeadAttention's Dropout), Keras records the draw under that
 * sub-layer's path, and a tfjs layer computing the same thing in its own call names it here. Keras
 * numbers auto-named sub-layers (`dropout_3`), so `name` is the unnumbered name; the replay finds
 * the recorded one. Outside a replay, `fn` just runs.
 */
export function inSubLayer<T>(name: string, fn: () => T): T {
  return source ? withDrawSource(source.subLayer(name), fn) : fn();
}

/** A layer asked for a draw that the recording did not make, or of another function or shape. */
export class ReplayMismatchError extends Error {
  override readonly name = 'ReplayMismatchError';
}

/** Where u >= rate, u ~ U[0, 1) of `shape`: what TensorFlow's and Keras's dropout keep. */
function keep(shape: number[], rate: number, seed?: number): tf.Tensor {
  return tf.greaterEqual(standardDraw('dropout', shape, () => tf.randomUniform(shape, 0, 1, 'float32', seed)), rate);
}

function standardDraw(fn: RandomFunction, shape: number[], fresh: () => tf.Tensor): tf.Tensor {
  // A recorded draw is owned by the replay: clone it so that tidy scopes may dispose what we return.
  return source ? tf.clone(source.draw({ function: fn, shape })) : fresh();
}
