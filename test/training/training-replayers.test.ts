import assert from 'node:assert/strict';
import tf from '#tfjs';
import type { RandomDrawRecord } from '../../src/keras/bundle-manifest.js';
import { TrainingReplay, type RecordedDraw } from '../../src/training/training-replay.js';

// tfjs-layers' ConvLSTM2D, replayed: Keras 3's ConvLSTMCell (keras/src/layers/rnn/conv_lstm.py)
// gives each of its four gates its own input mask and, with recurrent_dropout, its own state mask,
// drawn by the RNN layer before the first step (input masks, then state masks). The replayed
// layer must compute that cell, written out here; the same masks on the wrong gates must not.

const BATCH = 2;
const STEPS = 3;
const SIZE = 4;
const FILTERS = 2;
const RATE = 0.5;
const INPUT: [number, number, number, number] = [BATCH, SIZE, SIZE, 1];
const STATE: [number, number, number, number] = [BATCH, SIZE - 1, SIZE - 1, FILTERS]; // kernel 2, 'valid' padding
const X = () => tf.tensor5d([...Array(BATCH * STEPS * SIZE * SIZE).keys()].map((i) => Math.sin(i + 1)), [BATCH, STEPS, SIZE, SIZE, 1]);

function convLstm(): tf.LayersModel {
  const input = tf.input({ shape: [STEPS, SIZE, SIZE, 1] });
  const layer = tf.layers.convLstm2d({ name: 'conv_lstm2d', filters: FILTERS, kernelSize: 2, dropout: RATE, recurrentDropout: RATE, recurrentActivation: 'sigmoid' });
  return tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
}

/** Four input masks, then four state masks, as Keras records them; and the masks they make (1 / (1 - rate) or 0). */
function draws(): { recorded: RecordedDraw[]; input: tf.Tensor[]; state: tf.Tensor[] } {
  const shapes = [...Array<number[]>(4).fill(INPUT), ...Array<number[]>(4).fill(STATE)];
  const recorded = shapes.map((shape, index) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = tf.tensor(Array.from({ length: size }, (_, i) => ((i * 7 + index * 3) % 10) / 10), shape);
    const record: RandomDrawRecord = { kind: 'random_draw', layer_path: ['conv_lstm2d'], call: 0, index, function: 'dropout', parameters: { rate: RATE }, shape, dtype: 'float32', offset: 0, byte_length: 4 * size };
    return { record, values };
  });
  const masks = recorded.map((d) => tf.div(tf.cast(tf.greaterEqual(d.values, RATE), 'float32'), 1 - RATE));
  return { recorded, input: masks.slice(0, 4), state: masks.slice(4) };
}

/** Keras's ConvLSTMCell over the sequence: gate g convolves x times input mask g and h times state mask g. */
function kerasConvLstm(weights: tf.Tensor[], input: tf.Tensor[], state: tf.Tensor[]): tf.Tensor {
  const [kernel, recurrent, bias] = weights as [tf.Tensor4D, tf.Tensor4D, tf.Tensor];
  const [ks, rs, bs] = [tf.split(kernel, 4, 3) as tf.Tensor4D[], tf.split(recurrent, 4, 3) as tf.Tensor4D[], tf.split(bias, 4)];
  let h: tf.Tensor4D = tf.zeros(STATE);
  let c: tf.Tensor4D = tf.zeros(STATE);
  for (const x of tf.unstack(X(), 1) as tf.Tensor4D[]) {
    const z = [0, 1, 2, 3].map((g) =>
      tf.add(tf.add(tf.conv2d(tf.mul(x, input[g]!) as tf.Tensor4D, ks[g]!, 1, 'valid'), bs[g]!), tf.conv2d(tf.mul(h, state[g]!) as tf.Tensor4D, rs[g]!, 1, 'same')),
    );
    c = tf.add(tf.mul(tf.sigmoid(z[1]!), c), tf.mul(tf.sigmoid(z[0]!), tf.tanh(z[2]!)));
    h = tf.mul(tf.sigmoid(z[3]!), tf.tanh(c));
  }
  return h;
}

function maxDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
}

describe("training replayers: tfjs-layers' classes drawing Keras's recorded numbers", () => {
  it("ConvLSTM2D: one input and one state mask per gate, as Keras's ConvLSTMCell; tfjs's own draw is back afterwards", () => {
    const model = convLstm();
    const cell = (model.getLayer('conv_lstm2d') as unknown as { cell: { dropoutFunc?: unknown } }).cell;
    const { recorded, input, state } = draws();
    const replay = new TrainingReplay(model, recorded);
    replay.newPass();
    const out = model.apply(X(), { training: true }) as tf.Tensor;
    assert.deepEqual(replay.unusedDraws(), []);
    replay.uninstall();
    assert.equal(cell.dropoutFunc, undefined);
    const weights = model.getWeights();
    const difference = maxDifference(out, kerasConvLstm(weights, input, state));
    assert.ok(difference <= 1e-6, `max abs difference ${difference} from Keras's cell`);
    const rotated = (masks: tf.Tensor[]) => masks.map((_, g) => masks[(g + 1) % 4]!);
    assert.ok(maxDifference(out, kerasConvLstm(weights, rotated(input), state)) > 1e-3, 'input masks on the wrong gates should change the output');
    assert.ok(maxDifference(out, kerasConvLstm(weights, input, rotated(state))) > 1e-3, 'state masks on the wrong gates should change the output');
    model.dispose();
  });

  it('ConvLSTM2D in inference draws nothing', () => {
    const model = convLstm();
    const { recorded } = draws();
    const replay = new TrainingReplay(model, recorded);
    replay.newPass();
    const out = model.apply(X(), { training: false }) as tf.Tensor;
    assert.equal(replay.unusedDraws().length, 1);
    replay.uninstall();
    assert.equal(maxDifference(out, model.predict(X()) as tf.Tensor), 0);
    model.dispose();
  });
});
