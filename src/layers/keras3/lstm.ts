import tf from '#tfjs';
import { KerasCell, type KerasCellArgs } from './keras-cell.js';
import { kerasRecurrentLayer } from './keras-recurrent.js';
import { activationNamed, type TfjsActivation } from './tfjs-objects.js';

export interface KerasLSTMCellArgs extends KerasCellArgs {
  recurrentActivation?: string;
  unitForgetBias?: boolean;
}

/**
 * Keras 3's LSTMCell, with tfjs-layers' weights (kernel [input, 4·units], recurrent_kernel
 * [units, 4·units], bias [4·units]; gates i, f, c, o):
 *
 *   [i, f, ĉ, o] = x W + h U + b      c' = σ(f) ⊙ c + σ(i) ⊙ tanh(ĉ)      h' = σ(o) ⊙ tanh(c')
 *
 * Dropout, in training only, as Keras 3's (recurrent-dropout.ts): one input mask for all gates,
 * or with recurrent_dropout one input and one state mask per gate, drawn once per sequence.
 */
export class KerasLSTMCell extends KerasCell {
  static readonly className = 'KerasLSTMCell';
  readonly stateSize: number[];
  readonly unitForgetBias: boolean;
  private readonly recurrentActivation: TfjsActivation;

  constructor(args: KerasLSTMCellArgs & Record<string, unknown>) {
    super(args, 4);
    this.stateSize = [args.units, args.units];
    this.unitForgetBias = args.unitForgetBias ?? true;
    this.recurrentActivation = activationNamed(this, 'recurrent_activation', args.recurrentActivation ?? 'sigmoid');
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    super.build(inputShape);
    // unit_forget_bias only initializes: the forget gate's bias starts at 1.
    if (this.bias && this.unitForgetBias) {
      this.bias.write(tf.tidy(() => tf.concat([tf.slice(this.bias!.read(), 0, this.units), tf.ones([this.units]), tf.slice(this.bias!.read(), 2 * this.units)])));
    }
  }

  /** inputs: [x, h, c]; returns [h', h', c'] (output and new states), as tfjs-layers' RNN expects. */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    return tf.tidy(() => {
      const [x, h, c] = inputs as [tf.Tensor, tf.Tensor, tf.Tensor];
      const masks = this.dropoutMasks;
      let z = tf.add(masks.inputProjection(x, this.kernel.read()), masks.stateProjection(h, this.recurrentKernel.read()));
      if (this.bias) z = tf.add(z, this.bias.read());
      const [zI, zF, zC, zO] = tf.split(z, 4, -1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const act = (t: tf.Tensor) => this.activation.apply(t);
      const gate = (t: tf.Tensor) => this.recurrentActivation.apply(t);
      const carry = tf.add(tf.mul(gate(zF), c), tf.mul(gate(zI), act(zC)));
      const next = tf.mul(gate(zO), act(carry));
      return [next, next, carry];
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), recurrentActivation: this.recurrentActivation.getClassName(), unitForgetBias: this.unitForgetBias };
  }
}
tf.serialization.registerClass(KerasLSTMCell);

/** Keras 3's LSTM: tfjs-layers' RNN loop around KerasLSTMCell (keras-recurrent.ts). */
export const KerasLSTM = kerasRecurrentLayer('KerasLSTM', (args) => new KerasLSTMCell(args as unknown as KerasLSTMCellArgs & Record<string, unknown>));
