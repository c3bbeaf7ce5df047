import tf from '#tfjs';
import { KerasCell, type KerasCellArgs } from './keras-cell.js';
import { kerasRecurrentLayer } from './keras-recurrent.js';
import { activationNamed, type TfjsActivation } from './tfjs-objects.js';

export interface KerasGRUCellArgs extends KerasCellArgs {
  recurrentActivation?: string;
  resetAfter?: boolean;
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
export class KerasGRUCell extends KerasCell {
  static readonly className = 'KerasGRUCell';
  readonly stateSize: number;
  readonly resetAfter: boolean;
  private readonly recurrentActivation: TfjsActivation;

  constructor(args: KerasGRUCellArgs & Record<string, unknown>) {
    super(args, 3);
    this.stateSize = args.units;
    this.resetAfter = args.resetAfter ?? true;
    this.recurrentActivation = activationNamed(this, 'recurrent_activation', args.recurrentActivation ?? 'sigmoid');
  }

  protected override biasShape(): number[] {
    return this.resetAfter ? [2, 3 * this.units] : [3 * this.units];
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
    return { ...super.getConfig(), recurrentActivation: this.recurrentActivation.getClassName(), resetAfter: this.resetAfter };
  }
}
tf.serialization.registerClass(KerasGRUCell);

/** Keras 3's GRU: tfjs-layers' RNN loop around KerasGRUCell (keras-recurrent.ts). */
export const KerasGRU = kerasRecurrentLayer('KerasGRU', (args) => new KerasGRUCell(args as unknown as KerasGRUCellArgs & Record<string, unknown>));
