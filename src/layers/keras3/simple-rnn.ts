import * as tf from '@tensorflow/tfjs';
import { kerasRecurrentLayer } from './keras-recurrent.js';
import { RecurrentDropout } from './recurrent-dropout.js';
import { activationNamed, WeightSettings, type TfjsActivation } from './tfjs-objects.js';

export interface KerasSimpleRNNCellArgs {
  units: number;
  activation?: string;
  useBias?: boolean;
  dropout?: number;
  recurrentDropout?: number;
}

/**
 * Keras 3's SimpleRNNCell, with tfjs-layers' weights (kernel, recurrent_kernel, bias):
 * h' = tanh(x W + b + h U). Dropout, in training only, as Keras 3's (recurrent-dropout.ts): one
 * input mask and one state mask, drawn once per sequence.
 */
export class KerasSimpleRNNCell extends tf.layers.Layer {
  static readonly className = 'KerasSimpleRNNCell';
  readonly units: number;
  readonly stateSize: number;
  readonly useBias: boolean;
  readonly dropoutMasks: RecurrentDropout;
  private readonly activation: TfjsActivation;
  private readonly settings: Record<'kernel' | 'recurrent' | 'bias', WeightSettings>;
  private kernel!: tf.LayerVariable;
  private recurrentKernel!: tf.LayerVariable;
  private bias: tf.LayerVariable | null = null;

  constructor(args: KerasSimpleRNNCellArgs & Record<string, unknown>) {
    super(args as object);
    this.units = args.units;
    this.stateSize = args.units;
    this.useBias = args.useBias ?? true;
    this.dropoutMasks = new RecurrentDropout(args.dropout ?? 0, args.recurrentDropout ?? 0, 1);
    this.activation = activationNamed(args.activation ?? 'tanh');
    this.settings = {
      kernel: WeightSettings.read(args, 'kernel', 'glorotUniform'),
      recurrent: WeightSettings.read(args, 'recurrent', 'orthogonal'),
      bias: WeightSettings.read(args, 'bias', 'zeros'),
    };
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const weight = (name: string, weightShape: number[], settings: WeightSettings) =>
      this.addWeight(name, weightShape, 'float32', settings.initializer, settings.regularizer, true, settings.constraint);
    this.kernel = weight('kernel', [shape[shape.length - 1]!, this.units], this.settings.kernel);
    this.recurrentKernel = weight('recurrent_kernel', [this.units, this.units], this.settings.recurrent);
    if (this.useBias) this.bias = weight('bias', [this.units], this.settings.bias);
    this.built = true;
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

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      units: this.units,
      activation: this.activation.getClassName(),
      useBias: this.useBias,
      dropout: this.dropoutMasks.rate,
      recurrentDropout: this.dropoutMasks.recurrentRate,
      ...this.settings.kernel.config(),
      ...this.settings.recurrent.config(),
      ...this.settings.bias.config(),
    };
  }
}
tf.serialization.registerClass(KerasSimpleRNNCell);

/** Keras 3's SimpleRNN: tfjs-layers' RNN loop around KerasSimpleRNNCell (keras-recurrent.ts). */
export const KerasSimpleRNN = kerasRecurrentLayer('KerasSimpleRNN', (args) => new KerasSimpleRNNCell(args as unknown as KerasSimpleRNNCellArgs & Record<string, unknown>));
