import tf from '#tfjs';

type AddWeight = (this: tf.layers.Layer, name: string, shape: Array<number | null>, dtype?: tf.DataType, initializer?: unknown, ...rest: unknown[]) => unknown;

/** What addWeight asks of an initializer. */
interface InitialValues {
  apply(shape: number[], dtype?: tf.DataType): tf.Tensor;
}

/** The typed arrays a zero tensor can view without a copy (tfjs copies a bool array as it makes the tensor). */
const ZERO_VIEWS = { float32: Float32Array, int32: Int32Array } as const;

/**
 * Zero tensors (float32, int32) that all view one zeroed buffer, as large as the largest of them. tfjs never writes
 * into a tensor's values (an assign gives a variable new ones), so sharing them is safe while the
 * model only tells its weights' names and shapes. tfjs's zeros initializer allocated and cleared
 * every weight anew: 16 ms of ResNet50's 79 ms of planning, 98 MB the process touched for nothing.
 */
export function sharedZeros(): InitialValues {
  let buffer = new ArrayBuffer(0);
  return {
    apply(shape, dtype = 'float32') {
      const View = (ZERO_VIEWS as Partial<Record<tf.DataType, typeof ZERO_VIEWS[keyof typeof ZERO_VIEWS]>>)[dtype];
      if (!View) return tf.zeros(shape, dtype);
      const size = shape.reduce((n, d) => n * d, 1);
      if (buffer.byteLength < size * View.BYTES_PER_ELEMENT) buffer = new ArrayBuffer(size * View.BYTES_PER_ELEMENT);
      return tf.tensor(new View(buffer, 0, size), shape, dtype);
    },
  };
}

/**
 * Runs `build` (tfjs building the converted model only to learn its weights' names, shapes,
 * dtypes and constraints) with every variable created as zeros instead of by its initializer, the
 * zeros of all of them one shared buffer (sharedZeros): the file's values replace them, and a
 * random initializer over a large model costs seconds and touches every byte. tfjs's own loader
 * does the same (fastWeightInitDuringBuild) when it loads weights right after.
 */
export async function withoutInitializers<T>(build: () => Promise<T>): Promise<T> {
  const prototype = tf.layers.Layer.prototype as unknown as { addWeight: AddWeight };
  const original = prototype.addWeight;
  const zeros = sharedZeros();
  prototype.addWeight = function (this: tf.layers.Layer, name, shape, dtype, _initializer, ...rest) {
    return original.call(this, name, shape, dtype, zeros, ...rest);
  };
  try {
    return await build();
  } finally {
    prototype.addWeight = original;
  }
}
