import * as tf from '@tensorflow/tfjs';
import { singleTensor } from './single-input.js';
import { spatialAxes, type DataFormat } from './spatial-axes.js';

export interface KerasGlobalPooling3DArgs {
  dataFormat?: DataFormat;
  keepdims?: boolean;
}

/** Keras 3's global pooling over the three spatial axes of a 5D input (tfjs-layers stops at 2D). */
abstract class GlobalPooling3D extends tf.layers.Layer {
  readonly dataFormat: DataFormat;
  readonly keepdims: boolean;

  constructor(args: KerasGlobalPooling3DArgs & Record<string, unknown>) {
    super(args as object);
    this.dataFormat = args.dataFormat ?? 'channelsLast';
    this.keepdims = args.keepdims ?? false;
  }

  protected abstract pool(x: tf.Tensor, axes: number[], keepdims: boolean): tf.Tensor;

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      return this.pool(x, spatialAxes(x.rank, this.dataFormat), this.keepdims);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = inputShape as tf.Shape;
    const axes = spatialAxes(shape.length, this.dataFormat);
    if (this.keepdims) return shape.map((d, axis) => (axes.includes(axis) ? 1 : d));
    return shape.filter((_, axis) => !axes.includes(axis));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), dataFormat: this.dataFormat, keepdims: this.keepdims };
  }
}

export class KerasGlobalAveragePooling3D extends GlobalPooling3D {
  static readonly className = 'KerasGlobalAveragePooling3D';

  protected override pool(x: tf.Tensor, axes: number[], keepdims: boolean): tf.Tensor {
    return tf.mean(x, axes, keepdims);
  }
}
tf.serialization.registerClass(KerasGlobalAveragePooling3D);

export class KerasGlobalMaxPooling3D extends GlobalPooling3D {
  static readonly className = 'KerasGlobalMaxPooling3D';

  protected override pool(x: tf.Tensor, axes: number[], keepdims: boolean): tf.Tensor {
    return tf.max(x, axes, keepdims);
  }
}
tf.serialization.registerClass(KerasGlobalMaxPooling3D);
