import * as tf from '@tensorflow/tfjs';
import { tfjsRecurrentClass, zeroOutputForMask } from './zero-output-for-mask.js';

export const TfjsSimpleRNN = tfjsRecurrentClass('SimpleRNN');

/**
 * tfjs-layers' SimpleRNN with Keras's zero_output_for_mask; the
 * converter uses it where that flag changes the output (return_sequences, with a mask).
 */
export class KerasSimpleRNN extends TfjsSimpleRNN {
  static readonly className = 'KerasSimpleRNN';
  readonly zeroOutputForMask: boolean;

  constructor(args: tf.serialization.ConfigDict) {
    super(args);
    this.zeroOutputForMask = args['zeroOutputForMask'] === true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    if (!this.zeroOutputForMask) return super.call(inputs, kwargs as never);
    return tf.tidy(() => zeroOutputForMask(this, super.call(inputs, kwargs as never), kwargs));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), zeroOutputForMask: this.zeroOutputForMask };
  }
}
tf.serialization.registerClass(KerasSimpleRNN);
