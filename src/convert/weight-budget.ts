import tf from '#tfjs';
import { InputError } from '../errors.js';

/** Room beyond the file's own weight bytes for variables tfjs creates that Keras does not store. */
const SLACK_BYTES = 64 * 1024 * 1024;

type AddWeight = (this: tf.layers.Layer, name: string, shape: Array<number | null>, ...rest: unknown[]) => unknown;

/**
 * Runs `build` (tfjs building the converted model) with every layer's variables counted as they
 * are created, before their initializer allocates them. A config asking for far more than the file
 * stores (Dense units=2e8 over a file of kilobytes) is refused there with the layer and weight
 * named, instead of allocating gigabytes first: the converted model must hold the file's weights,
 * so they bound it.
 */
export async function withWeightBudget<T>(fileWeightBytes: number, source: string, build: () => Promise<T>): Promise<T> {
  const prototype = tf.layers.Layer.prototype as unknown as { addWeight: AddWeight };
  const original = prototype.addWeight;
  const budget = fileWeightBytes + SLACK_BYTES;
  let used = 0;
  prototype.addWeight = function (this: tf.layers.Layer, name, shape, ...rest) {
    const elements = shape.reduce<number>((n, d) => n * (d ?? 1), 1);
    const bytes = elements * 4;
    used += bytes;
    if (!Number.isFinite(used) || used > budget) {
      throw new InputError(
        `${source}: layer '${this.name}' (${this.getClassName()}) creates weight '${name}' of shape [${shape.join(', ')}] ` +
          `(${bytes} bytes): the model's config asks for more than the ${fileWeightBytes} bytes of weights the file holds. ` +
          `The config and its weights disagree (a layer's units, filters or input size).`,
      );
    }
    return original.call(this, name, shape, ...rest);
  };
  try {
    return await build();
  } finally {
    prototype.addWeight = original;
  }
}
