import * as tf from '@tensorflow/tfjs';
import { activationNamed, WeightSettings, type TfjsActivation } from './tfjs-objects.js';
import { tfjsRecurrentClass, zeroOutputForMask } from './zero-output-for-mask.js';

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
 * Dropout, in training only, uses one input mask and one state mask per sequence, as Keras 3 does.
 */
export class KerasGRUCell extends tf.layers.Layer {
  static readonly className = 'KerasGRUCell';
  readonly units: number;
  readonly stateSize: number;
  readonly useBias: boolean;
  readonly resetAfter: boolean;
  readonly dropout: number;
  readonly recurrentDropout: number;
  private readonly activation: TfjsActivation;
  private readonly recurrentActivation: TfjsActivation;
  private readonly settings: Record<'kernel' | 'recurrent' | 'bias', WeightSettings>;
  private kernel!: tf.LayerVariable;
  private recurrentKernel!: tf.LayerVariable;
  private bias: tf.LayerVariable | null = null;
  dropoutMask: tf.Tensor | null = null;
  recurrentDropoutMask: tf.Tensor | null = null;

  constructor(args: KerasGRUCellArgs & Record<string, unknown>) {
    super(args as object);
    this.units = args.units;
    this.stateSize = args.units;
    this.useBias = args.useBias ?? true;
    this.resetAfter = args.resetAfter ?? true;
    this.dropout = args.dropout ?? 0;
    this.recurrentDropout = args.recurrentDropout ?? 0;
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
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor[] {
    return tf.tidy(() => {
      const [input, state] = inputs as tf.Tensor[];
      const training = kwargs['training'] === true;
      const x = training ? this.droppedOut(input!, 'dropoutMask', this.dropout) : input!;
      const h = state!;
      const hForGates = training ? this.droppedOut(h, 'recurrentDropoutMask', this.recurrentDropout) : h;
      const [inputBias, recurrentBias] = this.biases();
      const kernel = this.kernel.read();
      const recurrentKernel = this.recurrentKernel.read();

      const matrixX = inputBias ? tf.add(tf.matMul(x, kernel), inputBias) : tf.matMul(x, kernel);
      const [xZ, xR, xH] = tf.split(matrixX, 3, -1) as [tf.Tensor, tf.Tensor, tf.Tensor];
      const [kernelZR, kernelH] = tf.split(recurrentKernel, [2 * this.units, this.units], -1) as [tf.Tensor, tf.Tensor];
      const inner = this.resetAfter ? recurrentKernel : kernelZR;
      let matrixInner = tf.matMul(hForGates, inner);
      if (recurrentBias) matrixInner = tf.add(matrixInner, recurrentBias);
      const [recurrentZ, recurrentR, recurrentH] = tf.split(matrixInner, this.resetAfter ? 3 : [this.units, this.units], -1);
      const z = this.recurrentActivation.apply(tf.add(xZ, recurrentZ!));
      const r = this.recurrentActivation.apply(tf.add(xR, recurrentR!));
      const resetH = this.resetAfter ? tf.mul(r, recurrentH!) : tf.matMul(tf.mul(r, hForGates), kernelH);
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

  /** `value` times this sequence's dropout mask (drawn at its first step, kept until resetDropoutMasks). */
  private droppedOut(value: tf.Tensor, which: 'dropoutMask' | 'recurrentDropoutMask', rate: number): tf.Tensor {
    if (!(rate > 0 && rate < 1)) return value;
    this[which] ??= tf.keep(tf.dropout(tf.onesLike(value), rate));
    return tf.mul(value, this[which]!);
  }

  resetDropoutMasks(): void {
    tf.dispose([this.dropoutMask, this.recurrentDropoutMask].filter((m): m is tf.Tensor => m !== null));
    this.dropoutMask = null;
    this.recurrentDropoutMask = null;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      units: this.units,
      activation: this.activation.getClassName(),
      recurrentActivation: this.recurrentActivation.getClassName(),
      useBias: this.useBias,
      resetAfter: this.resetAfter,
      dropout: this.dropout,
      recurrentDropout: this.recurrentDropout,
      ...this.settings.kernel.config(),
      ...this.settings.recurrent.config(),
      ...this.settings.bias.config(),
    };
  }
}
tf.serialization.registerClass(KerasGRUCell);

export const TfjsRNN = tfjsRecurrentClass('RNN');

/**
 * Keras 3's GRU: tfjs-layers' RNN loop (masks, go_backwards, return_sequences/state) around
 * KerasGRUCell, with Keras's zero_output_for_mask. The cell's fields sit on the layer's config,
 * as for tfjs-layers' own GRU.
 */
export class KerasGRU extends TfjsRNN {
  static readonly className = 'KerasGRU';
  readonly zeroOutputForMask: boolean;

  constructor(args: tf.serialization.ConfigDict) {
    const cell = new KerasGRUCell(args as unknown as KerasGRUCellArgs & Record<string, unknown>);
    super({ ...args, cell } as unknown as tf.serialization.ConfigDict);
    this.zeroOutputForMask = args['zeroOutputForMask'] === true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    (this.cell as unknown as KerasGRUCell).resetDropoutMasks();
    if (!this.zeroOutputForMask) return super.call(inputs, kwargs as never);
    return tf.tidy(() => zeroOutputForMask(this, super.call(inputs, kwargs as never), kwargs));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), zeroOutputForMask: this.zeroOutputForMask };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config);
  }
}
tf.serialization.registerClass(KerasGRU);
