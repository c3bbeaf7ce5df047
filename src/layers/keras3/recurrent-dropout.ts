import tf from '#tfjs';
import { random } from '../../training/replayable-random.js';

/**
 * Keras 3's dropout in recurrent cells (DropoutRNNCell): in training, the RNN layer draws the
 * masks once per call, before the first step (input masks, then state masks, as
 * `keras.random.dropout` of ones: 1 / (1 - rate) or 0), and every step applies the same ones.
 * With recurrent_dropout > 0 Keras's LSTM and GRU switch to implementation 1, which draws one mask
 * per gate (4, 3) for the input and for the state; otherwise one input mask serves all gates.
 * (tfjs-layers' cells draw per-gate masks but apply the first to every gate, and its GRU mixes
 * the dropped-out state into the new one: keras-bridge's cells compute what Keras does.)
 */
export class RecurrentDropout {
  private inputMasks: tf.Tensor[] = [];
  private stateMasks: tf.Tensor[] = [];

  constructor(
    readonly rate: number,
    readonly recurrentRate: number,
    private readonly gates: number,
  ) {}

  /** Whether each gate has its own masks (Keras's implementation 1, which recurrent_dropout forces). */
  get perGate(): boolean {
    return this.recurrentRate !== 0 && this.gates > 1;
  }

  /** Draws this call's masks for steps of `stepShape` and states of `stateShape`; kept until the next call. */
  draw(stepShape: number[], stateShape: number[]): void {
    this.reset();
    const count = this.perGate ? this.gates : 1;
    const masks = (shape: number[], rate: number) =>
      0 < rate && rate < 1 ? Array.from({ length: count }, () => tf.keep(tf.tidy(() => random.dropout(tf.ones(shape), rate)))) : [];
    this.inputMasks = masks(stepShape, this.rate);
    this.stateMasks = masks(stateShape, this.recurrentRate);
  }

  reset(): void {
    tf.dispose([...this.inputMasks, ...this.stateMasks]);
    this.inputMasks = [];
    this.stateMasks = [];
  }

  /** x·kernel, where kernel holds `count` gates from `firstGate` on side by side, each fed x times its input mask. */
  inputProjection(x: tf.Tensor, kernel: tf.Tensor, firstGate = 0, count = this.gates - firstGate): tf.Tensor {
    return project(x, kernel, this.inputMasks, firstGate, count);
  }

  /** The same for a state and the recurrent kernel, with the state masks. */
  stateProjection(h: tf.Tensor, kernel: tf.Tensor, firstGate = 0, count = this.gates - firstGate): tf.Tensor {
    return project(h, kernel, this.stateMasks, firstGate, count);
  }

  /** h times gate `gate`'s state mask. */
  droppedState(h: tf.Tensor, gate: number): tf.Tensor {
    return applyMask(h, this.stateMasks, gate);
  }
}

function applyMask(x: tf.Tensor, masks: tf.Tensor[], gate: number): tf.Tensor {
  if (masks.length === 0) return x;
  return tf.mul(x, masks[masks.length === 1 ? 0 : gate]!);
}

function project(x: tf.Tensor, kernel: tf.Tensor, masks: tf.Tensor[], firstGate: number, count: number): tf.Tensor {
  if (masks.length <= 1) return tf.matMul(applyMask(x, masks, firstGate), kernel);
  const blocks = tf.split(kernel, count, -1);
  return tf.concat(blocks.map((block, i) => tf.matMul(applyMask(x, masks, firstGate + i), block)), -1);
}
