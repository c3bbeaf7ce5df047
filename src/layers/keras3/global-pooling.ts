import tf from '#tfjs';
import { constantCondition } from './constant-condition.js';
import { singleTensor } from './single-input.js';
import { spatialAxes, type DataFormat } from './spatial-axes.js';

export interface KerasGlobalPoolingArgs {
  dataFormat?: DataFormat;
  keepdims?: boolean;
}

/**
 * Keras 3's global pooling over every spatial axis of a 3D, 4D or 5D input, in either data format,
 * with keepdims (each pooled axis kept with size 1). tfjs-layers' global pooling layers stop at 2D,
 * have no keepdims, and pool 1D inputs channels_last only.
 *
 * The output carries no mask (Keras's compute_mask returns None). An incoming mask is accepted:
 * the average pooling of a 1D input leaves masked steps out, as Keras's GlobalAveragePooling1D
 * does; the other layers ignore it, as Keras does (tfjs-layers would throw on it).
 */
abstract class GlobalPooling extends tf.layers.Layer {
  readonly dataFormat: DataFormat;
  readonly keepdims: boolean;

  constructor(args: KerasGlobalPoolingArgs & Record<string, unknown>) {
    super(args as object);
    this.dataFormat = args.dataFormat ?? 'channelsLast';
    this.keepdims = args.keepdims ?? false;
    this.supportsMasking = true;
  }

  protected abstract pool(x: tf.Tensor, axes: number[], keepdims: boolean, mask: tf.Tensor | undefined): tf.Tensor;

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { mask?: tf.Tensor } = {}): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      return this.pool(x, spatialAxes(x.rank, this.dataFormat), this.keepdims, kwargs.mask ?? undefined);
    });
  }

  override computeMask(): tf.Tensor | tf.Tensor[] {
    return null as unknown as tf.Tensor;
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

export class KerasGlobalAveragePooling extends GlobalPooling {
  static readonly className = 'KerasGlobalAveragePooling';

  protected override pool(x: tf.Tensor, axes: number[], keepdims: boolean, mask: tf.Tensor | undefined): tf.Tensor {
    // Keras reads a mask only for 1D inputs: one [batch, steps] flag per step.
    if (!mask || x.rank !== 3) return tf.mean(x, axes, keepdims);
    // Keras: where(mask, x, 0) summed over the steps, over the count of unmasked steps (NaN if none).
    const featureAxis = this.dataFormat === 'channelsFirst' ? 1 : 2;
    const kept = tf.broadcastTo(tf.expandDims(constantCondition(mask, (m) => tf.cast(m, 'bool')), featureAxis), x.shape);
    const sum = tf.sum(tf.where(kept, x, tf.zerosLike(x)), axes, keepdims);
    return tf.div(sum, tf.sum(tf.cast(kept, x.dtype), axes, keepdims));
  }
}
tf.serialization.registerClass(KerasGlobalAveragePooling);

export class KerasGlobalMaxPooling extends GlobalPooling {
  static readonly className = 'KerasGlobalMaxPooling';

  protected override pool(x: tf.Tensor, axes: number[], keepdims: boolean): tf.Tensor {
    return tf.max(x, axes, keepdims);
  }
}
tf.serialization.registerClass(KerasGlobalMaxPooling);
