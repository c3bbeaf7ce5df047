import tf from '#tfjs';
import { singleShape, singleTensor } from './single-input.js';

/**
 * A copy of a tensor that a layer takes in more than one slot (`MultiHeadAttention()(x, x)`,
 * `x * x`), standing in for it in every slot after the first (src/convert/repeated-inputs.ts).
 * tfjs-layers 4.22's executor counts a tensor's consumers once per consuming tensor but uncounts
 * once per input slot, so a tensor read twice by one layer and also by another is disposed before
 * its last use. A copy in the second slot keeps the counts right. Its value and gradient are the
 * identity; it passes the mask on.
 */
export class KerasBridgeInputCopy extends tf.layers.Layer {
  static readonly className = 'KerasBridgeInputCopy';

  constructor(args: { name?: string; trainable?: boolean; dtype?: tf.DataType }) {
    super(args);
    this.supportsMasking = true;
  }

  // A clone, not the tensor itself: the executor disposes this layer's output after its consumer
  // runs, which must not free the original.
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.clone(singleTensor(inputs));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return singleShape(inputShape);
  }
}
tf.serialization.registerClass(KerasBridgeInputCopy);
