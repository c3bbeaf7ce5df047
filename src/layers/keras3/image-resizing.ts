import tf from '#tfjs';
import { singleShape, singleTensor } from './single-input.js';
import { unsupportedField } from '../layer-errors.js';

export interface KerasResizingArgs {
  name?: string;
  height: number;
  width: number;
  interpolation?: 'bilinear' | 'nearest';
}

/** Where output pixel i of `outSize` samples an axis of `inSize`, as TensorFlow's resize kernels do. */
function halfPixelSampling(inSize: number, outSize: number) {
  const scale = inSize / outSize;
  const lower: number[] = [];
  const upper: number[] = [];
  const lerp: number[] = [];
  const nearest: number[] = [];
  for (let i = 0; i < outSize; i++) {
    const at = (i + 0.5) * scale - 0.5;
    const floor = Math.floor(at);
    lower.push(Math.max(floor, 0));
    upper.push(Math.min(Math.ceil(at), inSize - 1));
    lerp.push(at - floor);
    nearest.push(Math.min(Math.floor((i + 0.5) * scale), inSize - 1));
  }
  return { lower, upper, lerp, nearest };
}

/** Linear interpolation along `axis` between the rows at `lower` and `upper` indices. */
function interpolateAxis(x: tf.Tensor, axis: number, sampling: ReturnType<typeof halfPixelSampling>): tf.Tensor {
  const lerpShape = x.shape.map((_, a) => (a === axis ? sampling.lerp.length : 1));
  const lerp = tf.tensor(sampling.lerp, lerpShape);
  const low = tf.gather(x, tf.tensor1d(sampling.lower, 'int32'), axis);
  const high = tf.gather(x, tf.tensor1d(sampling.upper, 'int32'), axis);
  return tf.add(low, tf.mul(tf.sub(high, low), lerp));
}

/**
 * Keras 3's Resizing (channels_last, no crop or pad to aspect ratio): tf.image.resize, which
 * samples with half-pixel centers. Built from gathers and products, so that its gradient is
 * right: tfjs's resize-gradient kernels ignore half-pixel centers (on every backend, tfjs-node's
 * included). tfjs-layers' own Resizing samples TF1's grid and computes its output shape wrongly.
 */
export class KerasResizing extends tf.layers.Layer {
  static readonly className = 'KerasResizing';
  readonly height: number;
  readonly width: number;
  readonly interpolation: 'bilinear' | 'nearest';

  constructor(args: KerasResizingArgs & Record<string, unknown>) {
    super(args as object);
    this.height = args.height;
    this.width = args.width;
    this.interpolation = args.interpolation ?? 'bilinear';
    if (this.interpolation !== 'bilinear' && this.interpolation !== 'nearest') {
      throw unsupportedField(this, 'interpolation', `'${String(this.interpolation)}' is not supported (bilinear or nearest)`);
    }
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      const rows = halfPixelSampling(x.shape[1]!, this.height);
      const cols = halfPixelSampling(x.shape[2]!, this.width);
      if (this.interpolation === 'nearest') {
        const picked = tf.gather(x, tf.tensor1d(rows.nearest, 'int32'), 1);
        return tf.gather(picked, tf.tensor1d(cols.nearest, 'int32'), 2);
      }
      return interpolateAxis(interpolateAxis(x, 1, rows), 2, cols);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = singleShape(inputShape);
    return [shape[0]!, this.height, this.width, shape[3]!];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), height: this.height, width: this.width, interpolation: this.interpolation };
  }
}
tf.serialization.registerClass(KerasResizing);

export interface KerasCenterCropArgs {
  name?: string;
  height: number;
  width: number;
}

/**
 * Keras 3's CenterCrop (channels_last) for inputs at least as large as the crop: rows from
 * (H - height) // 2, columns from (W - width) // 2. tfjs-layers' CenterCrop overwrites its input
 * shape while computing its output shape, which breaks the model around it.
 */
export class KerasCenterCrop extends tf.layers.Layer {
  static readonly className = 'KerasCenterCrop';
  readonly height: number;
  readonly width: number;

  constructor(args: KerasCenterCropArgs & Record<string, unknown>) {
    super(args as object);
    this.height = args.height;
    this.width = args.width;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs);
      const [, h, w] = x.shape as number[];
      if (h! < this.height || w! < this.width) {
        throw unsupportedField(this, 'height', `the input ${h}x${w} is smaller than the crop ${this.height}x${this.width}; Keras then resizes, which is not converted`);
      }
      const top = Math.floor((h! - this.height) / 2);
      const left = Math.floor((w! - this.width) / 2);
      return tf.slice(x, [0, top, left, 0], [-1, this.height, this.width, -1]);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = singleShape(inputShape);
    return [shape[0]!, this.height, this.width, shape[3]!];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), height: this.height, width: this.width };
  }
}
tf.serialization.registerClass(KerasCenterCrop);
