import * as tf from '@tensorflow/tfjs';
import { kerasRecurrentLayer } from './keras-recurrent.js';
import { RecurrentDropout } from './recurrent-dropout.js';
import { activationNamed, WeightSettings, type TfjsActivation } from './tfjs-objects.js';

export interface KerasLSTMCellArgs {
  units: number;
  activation?: string;
  recurrentActivation?: string;
  useBias?: boolean;
  unitForgetBias?: boolean;
  dropout?: number;
  recurrentDropout?: number;
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
export class KerasLSTMCell extends tf.layers.Layer {
  static readonly className = 'KerasLSTMCell';
  readonly units: number;
  readonly stateSize: number[];
  readonly useBias: boolean;
  readonly unitForgetBias: boolean;
  readonly dropoutMasks: RecurrentDropout;
  private readonly activation: TfjsActivation;
  private readonly recurrentActivation: TfjsActivation;
  private readonly settings: Record<'kernel' | 'recurrent' | 'bias', WeightSettings>;
  private kernel!: tf.LayerVariable;
  private recurrentKernel!: tf.LayerVariable;
  private bias: tf.LayerVariable | null = null;

  constructor(args: KerasLSTMCellArgs & Record<string, unknown>) {
    super(args as object);
    this.units = args.units;
    this.stateSize = [args.units, args.units];
    this.useBias = args.useBias ?? true;
    this.unitForgetBias = args.unitForgetBias ?? true;
    this.dropoutMasks = new RecurrentDropout(args.dropout ?? 0, args.recurrentDropout ?? 0, 4);
    this.activation = activationNamed(args.activation ?? 'tanh');
    this.recurrentActivation = activationNamed(args.recurrentActivation ?? 'sigmoid');
    this.settings = {
      kernel: WeightSettings.read(args, 'kernel', 'glorotUniform'),
      recurrent: WeightSettings.read(args, 'recurrent', 'orthogonal'),
      bias: WeightSettings.read(args, 'bias', 'zeros'),
    };
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const inputDim = shape[shape.length - 1]!;
    const weight = (name: string, weightShape: number[], settings: WeightSettings) =>
      this.addWeight(name, weightShape, 'float32', settings.initializer, settings.regularizer, true, settings.constraint);
    this.kernel = weight('kernel', [inputDim, 4 * this.units], this.settings.kernel);
    this.recurrentKernel = weight('recurrent_kernel', [this.units, 4 * this.units], this.settings.recurrent);
    if (this.useBias) {
      this.bias = weight('bias', [4 * this.units], this.settings.bias);
      // unit_forget_bias only initializes: the forget gate's bias starts at 1.
      if (this.unitForgetBias) this.bias.write(tf.tidy(() => tf.concat([tf.slice(this.bias!.read(), 0, this.units), tf.ones([this.units]), tf.slice(this.bias!.read(), 2 * this.units)])));
    }
    this.built = true;
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
    return {
      ...super.getConfig(),
      units: this.units,
      activation: this.activation.getClassName(),
      recurrentActivation: this.recurrentActivation.getClassName(),
      useBias: this.useBias,
      unitForgetBias: this.unitForgetBias,
      dropout: this.dropoutMasks.rate,
      recurrentDropout: this.dropoutMasks.recurrentRate,
      ...this.settings.kernel.config(),
      ...this.settings.recurrent.config(),
      ...this.settings.bias.config(),
    };
  }
}
tf.serialization.registerClass(KerasLSTMCell);

/** Keras 3's LSTM: tfjs-layers' RNN loop around KerasLSTMCell (keras-recurrent.ts). */
export const KerasLSTM = kerasRecurrentLayer('KerasLSTM', (args) => new KerasLSTMCell(args as unknown as KerasLSTMCellArgs & Record<string, unknown>));
