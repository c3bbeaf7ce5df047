import tf from '#tfjs';
import { RecurrentDropout } from './recurrent-dropout.js';
import { activationNamed, WeightSettings, type TfjsActivation } from './tfjs-objects.js';

/** What every Keras 3 recurrent cell takes; each cell adds its own. */
export interface KerasCellArgs {
  units: number;
  activation?: string;
  useBias?: boolean;
  dropout?: number;
  recurrentDropout?: number;
}

/**
 * What Keras 3's LSTM, GRU and SimpleRNN cells share, with tfjs-layers' weight names: kernel
 * [input, gates·units], recurrent_kernel [units, gates·units] and a bias, their initializers,
 * regularizers and constraints, the activation, and Keras's dropout masks, one per gate
 * (recurrent-dropout.ts).
 */
export abstract class KerasCell extends tf.layers.Layer {
  readonly units: number;
  readonly useBias: boolean;
  readonly dropoutMasks: RecurrentDropout;
  protected readonly activation: TfjsActivation;
  protected readonly settings: Record<'kernel' | 'recurrent' | 'bias', WeightSettings>;
  protected kernel!: tf.LayerVariable;
  protected recurrentKernel!: tf.LayerVariable;
  protected bias: tf.LayerVariable | null = null;
  private readonly gates: number;

  protected constructor(args: KerasCellArgs & Record<string, unknown>, gates: number) {
    super(args as object);
    this.gates = gates;
    this.units = args.units;
    this.useBias = args.useBias ?? true;
    this.dropoutMasks = new RecurrentDropout(args.dropout ?? 0, args.recurrentDropout ?? 0, gates);
    this.activation = activationNamed(this, 'activation', args.activation ?? 'tanh');
    this.settings = {
      kernel: WeightSettings.read(this, args, 'kernel', 'glorotUniform'),
      recurrent: WeightSettings.read(this, args, 'recurrent', 'orthogonal'),
      bias: WeightSettings.read(this, args, 'bias', 'zeros'),
    };
  }

  /** The bias's shape: [gates·units], unless a cell keeps two biases (GRU with reset_after). */
  protected biasShape(): number[] {
    return [this.gates * this.units];
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const weight = (name: string, weightShape: number[], settings: WeightSettings) =>
      this.addWeight(name, weightShape, 'float32', settings.initializer, settings.regularizer, true, settings.constraint);
    this.kernel = weight('kernel', [shape[shape.length - 1]!, this.gates * this.units], this.settings.kernel);
    this.recurrentKernel = weight('recurrent_kernel', [this.units, this.gates * this.units], this.settings.recurrent);
    if (this.useBias) this.bias = weight('bias', this.biasShape(), this.settings.bias);
    this.built = true;
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
