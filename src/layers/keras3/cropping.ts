import tf from '#tfjs';
import { singleTensor } from './single-input.js';
import { resizeSpatial, spatialAxes, type DataFormat } from './spatial-axes.js';

export interface KerasCroppingArgs {
  /** [start, end] per spatial axis: [[a, b]] for Cropping1D, three pairs for Cropping3D. */
  cropping: [number, number][];
  dataFormat?: DataFormat;
}

/**
 * Keras 3's Cropping1D and Cropping3D (tfjs-layers has Cropping2D only): removes `start` and
 * `end` elements from each spatial axis. Cropping1D is always channels last.
 */
export class KerasCropping extends tf.layers.Layer {
  static readonly className = 'KerasCropping';
  readonly cropping: [number, number][];
  readonly dataFormat: DataFormat;

  constructor(args: KerasCroppingArgs & Record<string, unknown>) {
    super(args as object);
    this.cropping = args.cropping;
    this.dataFormat = args.dataFormat ?? 'channelsLast';
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      const begin = x.shape.map(() => 0);
      const size = [...x.shape];
      spatialAxes(x.rank, this.dataFormat).forEach((axis, i) => {
        const [start, end] = this.cropping[i]!;
        begin[axis] = start;
        size[axis] = x.shape[axis]! - start - end;
      });
      return tf.slice(x, begin, size);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return resizeSpatial(inputShape as tf.Shape, this.dataFormat, (d, i) => d - this.cropping[i]![0] - this.cropping[i]![1]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), cropping: this.cropping, dataFormat: this.dataFormat };
  }
}
tf.serialization.registerClass(KerasCropping);
