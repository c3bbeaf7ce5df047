import tf from '#tfjs';
import { singleShape, singleTensor } from './single-input.js';

export type CategoryOutputMode = 'oneHot' | 'multiHot' | 'count';

export interface KerasCategoryEncodingArgs {
  name?: string;
  numTokens: number;
  outputMode?: CategoryOutputMode;
}

/**
 * Keras 3's CategoryEncoding: integer tokens in [0, num_tokens) as one-hot rows ('one_hot', a
 * trailing axis of size 1 squeezed first), or per sample the presence ('multi_hot') or count
 * ('count') of each token over the last axis. tfjs-layers' own CategoryEncoding overwrites its
 * input shape while computing its output shape.
 */
export class KerasCategoryEncoding extends tf.layers.Layer {
  static readonly className = 'KerasCategoryEncoding';
  readonly numTokens: number;
  readonly outputMode: CategoryOutputMode;

  constructor(args: KerasCategoryEncodingArgs & Record<string, unknown>) {
    super(args as object);
    this.numTokens = args.numTokens;
    this.outputMode = args.outputMode ?? 'multiHot';
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      let x = tf.cast(singleTensor(inputs), 'int32');
      if (this.outputMode === 'oneHot') {
        if (x.rank > 1 && x.shape[x.rank - 1] === 1) x = tf.squeeze(x, [x.rank - 1]);
        return tf.cast(tf.oneHot(x, this.numTokens), 'float32');
      }
      const hot = tf.cast(tf.oneHot(x, this.numTokens), 'float32');
      if (x.rank === 1) return hot;
      return this.outputMode === 'count' ? tf.sum(hot, -2) : tf.max(hot, -2);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = [...singleShape(inputShape)];
    if (this.outputMode === 'oneHot') {
      if (shape.length > 1 && shape[shape.length - 1] === 1) shape.pop();
      return [...shape, this.numTokens];
    }
    return shape.length === 1 ? [shape[0]!, this.numTokens] : [...shape.slice(0, -1), this.numTokens];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), numTokens: this.numTokens, outputMode: this.outputMode };
  }
}
tf.serialization.registerClass(KerasCategoryEncoding);
