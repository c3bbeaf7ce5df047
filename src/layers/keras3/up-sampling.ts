import tf from '#tfjs';
import { singleTensor } from './single-input.js';
import { resizeSpatial, spatialAxes, type DataFormat } from './spatial-axes.js';

export interface KerasUpSamplingArgs {
  /** Repeats per spatial axis: [n] for UpSampling1D, three for UpSampling3D. */
  size: number[];
  dataFormat?: DataFormat;
}

/**
 * Keras 3's UpSampling1D and UpSampling3D (tfjs-layers has UpSampling2D only): every element
 * repeated size[i] times along spatial axis i, as ops.repeat. UpSampling1D is channels last.
 */
export class KerasUpSampling extends tf.layers.Layer {
  static readonly className = 'KerasUpSampling';
  readonly size: number[];
  readonly dataFormat: DataFormat;

  constructor(args: KerasUpSamplingArgs & Record<string, unknown>) {
    super(args as object);
    this.size = args.size;
    this.dataFormat = args.dataFormat ?? 'channelsLast';
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      return spatialAxes(x.rank, this.dataFormat).reduce((y, axis, i) => repeat(y, this.size[i]!, axis), x);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return resizeSpatial(inputShape as tf.Shape, this.dataFormat, (d, i) => d * this.size[i]!);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), size: this.size, dataFormat: this.dataFormat };
  }
}
tf.serialization.registerClass(KerasUpSampling);

/**
 * Each element of `axis` repeated `times` times (NumPy's repeat), by tile and reshape. The tile
 * runs on a rank-4 view [before, axis, 1, after]: tfjs's Tile gradient stops at rank 4.
 */
export function repeat(x: tf.Tensor, times: number, axis: number): tf.Tensor {
  if (times === 1) return x;
  const product = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
  const view = [product(x.shape.slice(0, axis)), x.shape[axis]!, 1, product(x.shape.slice(axis + 1))];
  const shape = [...x.shape];
  shape[axis] = shape[axis]! * times;
  return tf.reshape(tf.tile(tf.reshape(x, view), [1, 1, times, 1]), shape);
}
