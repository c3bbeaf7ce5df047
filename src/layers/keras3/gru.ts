import * as tf from '@tensorflow/tfjs';
import { kerasRecurrentLayer } from './keras-recurrent.js';
import { RecurrentDropout } from './recurrent-dropout.js';
import { activationNamed, WeightSettings, type TfjsActivation } from './tfjs-objects.js';

export interface KerasGRUCellArgs {
  units: number;
  activation?: string;
  recurrentActivation?: string;
  useBias?: boolean;
  resetAfter?: boolean;
  dropout?: number;
  recurrentDropout?: number;
}

/**
 * Keras 3's GRUCell. tfjs-layers' GRUCell refuses reset_after=true, Keras 3's default, where the
 * reset gate multiplies the recurrent projection (plus its own bias) instead of the state:
 *
 *   z = σ(x Wz + bz + h Uz + b'z)   r = σ(x Wr + br + h Ur + b'r)
 *   ĥ = tanh(x Wh + bh + r ⊙ (h Uh + b'h))          (reset_after=false: tanh(x Wh + bh + (r ⊙ h) Uh))
 *   h' = z ⊙ h + (1 − z) ⊙ ĥ
 *
 * Weights as Keras 3 creates them: kernel [input, 3·units], recurrent_kernel [units, 3·units]
 * (gates z, r, h), bias [2, 3·units] (input bias, recurrent bias) or [3·units] without reset_after.
 * Dropout, in training only, as Keras 3's (recurrent-dropout.ts): masks drawn once per sequence,
 * one per gate with recurrent_dropout, and the new state mixes in the state before its dropout.
 */
export class KerasGRUCell extends tf.layers.Layer {
  static readonly className = 'KerasGRUCell';
  readonly units: number;
  readonly stateSize: number;
  readonly useBias: boolean;
  readonly resetAfter: boolean;
  readonly dropoutMasks: RecurrentDropout;
  private readonly activation: TfjsActivation;
  private readonly recurrentActivation: TfjsActivation;
  private readonly settings: Record<'kernel' | 'recurrent' | 'bias', WeightSettings>;
  private kernel!: tf.LayerVariable;
  private recurrentKernel!: tf.LayerVariable;
  private bias: tf.LayerVariable | null = null;

  constructor(args: KerasGRUCellArgs & Record<string, unknown>) {
    super(args as object);
    this.units = args.units;
    this.stateSize = args.units;
    this.useBias = args.useBias ?? true;
    this.resetAfter = args.resetAfter ?? true;
    this.dropoutMasks = new RecurrentDropout(args.dropout ?? 0, args.recurrentDropout ?? 0, 3);
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
    this.kernel = weight('kernel', [inputDim, 3 * this.units], this.settings.kernel);
    this.recurrentKernel = weight('recurrent_kernel', [this.units, 3 * this.units], this.settings.recurrent);
    if (this.useBias) {
      this.bias = weight('bias', this.resetAfter ? [2, 3 * this.units] : [3 * this.units], this.settings.bias);
    }
    this.built = true;
  }

  /** inputs: [x, h]; returns [h', h'] (output and new state), as tfjs-layers' RNN expects. */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    return tf.tidy(() => {
      const [x, h] = inputs as [tf.Tensor, tf.Tensor];
      const masks = this.dropoutMasks;
      const [inputBias, recurrentBias] = this.biases();
      const recurrentKernel = this.recurrentKernel.read();
      const projected = masks.inputProjection(x, this.kernel.read());
      const [xZ, xR, xH] = tf.split(inputBias ? tf.add(projected, inputBias) : projected, 3, -1) as [tf.Tensor, tf.Tensor, tf.Tensor];
      let recurrentZ: tf.Tensor, recurrentR: tf.Tensor, resetH: tf.Tensor;
      if (this.resetAfter) {
        const inner = masks.stateProjection(h, recurrentKernel);
        let recurrentH: tf.Tensor;
        [recurrentZ, recurrentR, recurrentH] = tf.split(recurrentBias ? tf.add(inner, recurrentBias) : inner, 3, -1) as [tf.Tensor, tf.Tensor, tf.Tensor];
        resetH = tf.mul(this.recurrentActivation.apply(tf.add(xR, recurrentR)), recurrentH);
      } else {
        const [kernelZR, kernelH] = tf.split(recurrentKernel, [2 * this.units, this.units], -1) as [tf.Tensor, tf.Tensor];
        [recurrentZ, recurrentR] = tf.split(masks.stateProjection(h, kernelZR, 0, 2), 2, -1) as [tf.Tensor, tf.Tensor];
        const r = this.recurrentActivation.apply(tf.add(xR, recurrentR));
        resetH = tf.matMul(tf.mul(r, masks.droppedState(h, 2)), kernelH);
      }
      const z = this.recurrentActivation.apply(tf.add(xZ, recurrentZ));
      const candidate = this.activation.apply(tf.add(xH, resetH));
      const next = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), candidate));
      return [next, next];
    });
  }

  /** Keras 3 splits a [2, 3·units] bias into the input and the recurrent bias. */
  private biases(): [tf.Tensor | null, tf.Tensor | null] {
    if (!this.bias) return [null, null];
    const bias = this.bias.read();
    if (!this.resetAfter) return [bias, null];
    const [input, recurrent] = tf.unstack(bias, 0);
    return [input!, recurrent!];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      units: this.units,
      activation: this.activation.getClassName(),
      recurrentActivation: this.recurrentActivation.getClassName(),
      useBias: this.useBias,
      resetAfter: this.resetAfter,
      dropout: this.dropoutMasks.rate,
      recurrentDropout: this.dropoutMasks.recurrentRate,
      ...this.settings.kernel.config(),
      ...this.settings.recurrent.config(),
      ...this.settings.bias.config(),
    };
  }
}
tf.serialization.registerClass(KerasGRUCell);

/** Keras 3's GRU: tfjs-layers' RNN loop around KerasGRUCell (keras-recurrent.ts). */
export const KerasGRU = kerasRecurrentLayer('KerasGRU', (args) => new KerasGRUCell(args as unknown as KerasGRUCellArgs & Record<string, unknown>));
