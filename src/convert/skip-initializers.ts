import * as tf from '@tensorflow/tfjs';

type AddWeight = (this: tf.layers.Layer, name: string, shape: Array<number | null>, dtype?: tf.DataType, initializer?: unknown, ...rest: unknown[]) => unknown;

/**
 * Runs `build` (tfjs building the converted model only to learn its weights' names, shapes,
 * dtypes and constraints) with every variable created as zeros instead of by its initializer:
 * the file's values replace them, and a random initializer over a large model costs seconds and
 * touches every byte, where zeros are pages the system has not yet handed out. tfjs's own loader
 * does the same (fastWeightInitDuringBuild) when it loads weights right after.
 */
export async function withoutInitializers<T>(build: () => Promise<T>): Promise<T> {
  const prototype = tf.layers.Layer.prototype as unknown as { addWeight: AddWeight };
  const original = prototype.addWeight;
  const zeros = tf.initializers.zeros();
  prototype.addWeight = function (this: tf.layers.Layer, name, shape, dtype, _initializer, ...rest) {
    return original.call(this, name, shape, dtype, zeros, ...rest);
  };
  try {
    return await build();
  } finally {
    prototype.addWeight = original;
  }
}
