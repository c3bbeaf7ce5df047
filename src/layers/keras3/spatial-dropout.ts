import tf from '#tfjs';
import { random } from '../../training/replayable-random.js';
import { singleTensor } from './single-input.js';
import { spatialAxes, type DataFormat } from './spatial-axes.js';

export interface KerasSpatialDropoutArgs {
  rate: number;
  seed?: number | null;
  dataFormat?: DataFormat;
}

/**
 * Keras 3's SpatialDropout2D and SpatialDropout3D: the identity at inference; in training, whole
 * feature maps are dropped (the noise is shared along the spatial axes). tfjs-layers has
 * SpatialDropout1D only.
 */
export class KerasSpatialDropout extends tf.layers.Layer {
  static readonly className = 'KerasSpatialDropout';
  readonly rate: number;
  readonly seed: number | null;
  readonly dataFormat: DataFormat;

  constructor(args: KerasSpatialDropoutArgs & Record<string, unknown>) {
    super(args as object);
    this.rate = args.rate;
    this.seed = args.seed ?? null;
    this.dataFormat = args.dataFormat ?? 'channelsLast';
    this.supportsMasking = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean } = {}): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      if (!kwargs.training || this.rate <= 0) return tf.clone(x);
      const spatial = spatialAxes(x.rank, this.dataFormat);
      const noiseShape = x.shape.map((d, axis) => (spatial.includes(axis) ? 1 : d));
      // keras-bridge's replayable random: training-mode parity checks replay Keras's own masks.
      return tf.mul(x, tf.div(random.dropoutMask(noiseShape, this.rate, this.seed ?? undefined), 1 - this.rate));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed, dataFormat: this.dataFormat };
  }
}
tf.serialization.registerClass(KerasSpatialDropout);
