import tf from '#tfjs';
import { singleTensor } from './single-input.js';
import { resizeSpatial, spatialAxes, type DataFormat } from './spatial-axes.js';

export interface KerasZeroPaddingArgs {
  /** [before, after] per spatial axis: [[a, b]] for ZeroPadding1D, three pairs for ZeroPadding3D. */
  padding: [number, number][];
  dataFormat?: DataFormat;
}

/** Keras 3's ZeroPadding1D and ZeroPadding3D (tfjs-layers has ZeroPadding2D only). */
export class KerasZeroPadding extends tf.layers.Layer {
  static readonly className = 'KerasZeroPadding';
  readonly padding: [number, number][];
  readonly dataFormat: DataFormat;

  constructor(args: KerasZeroPaddingArgs & Record<string, unknown>) {
    super(args as object);
    this.padding = args.padding;
    this.dataFormat = args.dataFormat ?? 'channelsLast';
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      const paddings: [number, number][] = x.shape.map(() => [0, 0]);
      spatialAxes(x.rank, this.dataFormat).forEach((axis, i) => (paddings[axis] = this.padding[i]!));
      return tf.pad(x, paddings);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return resizeSpatial(inputShape as tf.Shape, this.dataFormat, (d, i) => d + this.padding[i]![0] + this.padding[i]![1]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), padding: this.padding, dataFormat: this.dataFormat };
  }
}
tf.serialization.registerClass(KerasZeroPadding);
