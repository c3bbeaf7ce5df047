import tf from '#tfjs';
import { KerasCell, type KerasCellArgs } from './keras-cell.js';
import { kerasRecurrentLayer } from './keras-recurrent.js';

export type KerasSimpleRNNCellArgs = KerasCellArgs;

/**
 * Keras 3's SimpleRNNCell, with tfjs-layers' weights (kernel, recurrent_kernel, bias):
 * h' = tanh(x W + b + h U). Dropout, in training only, as Keras 3's (recurrent-dropout.ts): one
 * input mask and one state mask, drawn once per sequence.
 */
export class KerasSimpleRNNCell extends KerasCell {
  static readonly className = 'KerasSimpleRNNCell';
  readonly stateSize: number;

  constructor(args: KerasSimpleRNNCellArgs & Record<string, unknown>) {
    super(args, 1);
    this.stateSize = args.units;
  }

  /** inputs: [x, h]; returns [h', h'] (output and new state), as tfjs-layers' RNN expects. */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    return tf.tidy(() => {
      const [x, h] = inputs as [tf.Tensor, tf.Tensor];
      let projected = this.dropoutMasks.inputProjection(x, this.kernel.read());
      if (this.bias) projected = tf.add(projected, this.bias.read());
      const next = this.activation.apply(tf.add(projected, this.dropoutMasks.stateProjection(h, this.recurrentKernel.read())));
      return [next, next];
    });
  }
}
tf.serialization.registerClass(KerasSimpleRNNCell);

/** Keras 3's SimpleRNN: tfjs-layers' RNN loop around KerasSimpleRNNCell (keras-recurrent.ts). */
export const KerasSimpleRNN = kerasRecurrentLayer('KerasSimpleRNN', (args) => new KerasSimpleRNNCell(args as unknown as KerasSimpleRNNCellArgs & Record<string, unknown>));
