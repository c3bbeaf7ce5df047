import tf from '#tfjs';
import { firstTensor } from './swish-activation.js';

export interface TemporalWeightingArgs extends tf.serialization.ConfigDict {
  units: number;
}

/**
 * The seed's TemporalWeighting: inputs @ kernel, kernel of shape [lastDim, units], no bias.
 * Keras's initializer 'uniform' is RandomUniform(minval=-0.05, maxval=0.05).
 */
export class TemporalWeighting extends tf.layers.Layer {
  static readonly className = 'TemporalWeighting';
  readonly units: number;
  private kernel!: tf.LayerVariable;

  constructor(args: TemporalWeightingArgs & Record<string, unknown>) {
    super(args as object);
    this.units = args.units;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const inputDim = shape[shape.length - 1]!;
    const initializer = tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05 });
    this.kernel = this.addWeight('kernel', [inputDim, this.units], 'float32', initializer, undefined, true);
    this.built = true;
  }

  /** tf.matmul in Keras broadcasts over leading dims; flatten them, multiply, restore. */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = firstTensor(inputs);
      const leading = x.shape.slice(0, -1);
      const flat = tf.reshape(x, [-1, x.shape[x.rank - 1]!]);
      return tf.reshape(tf.matMul(flat, this.kernel.read()), [...leading, this.units]);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [...shape.slice(0, -1), this.units];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units };
  }
}
