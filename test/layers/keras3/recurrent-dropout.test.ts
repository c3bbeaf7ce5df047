import assert from 'node:assert/strict';
import tf from '#tfjs';
import type { RandomDrawRecord } from '../../../src/keras/bundle-manifest.js';
import { KerasGRU } from '../../../src/layers/keras3/gru.js';
import { KerasLSTM } from '../../../src/layers/keras3/lstm.js';
import { KerasSimpleRNN } from '../../../src/layers/keras3/simple-rnn.js';
import { TrainingReplay, type RecordedDraw } from '../../../src/training/training-replay.js';
import { roundTripLayer } from '../../support/layer-harness.js';

// Keras 3's recurrent dropout (keras/src/layers/rnn/dropout_rnn_cell.py): the RNN layer draws the
// masks once per call (input masks, then state masks); with recurrent_dropout LSTM and GRU draw
// one input and one state mask per gate. Here the draws are replayed into keras-bridge's layers and
// the result is checked against the Keras cell equations written out step by step, and against
// what tfjs-layers' cells do instead (every gate on the first mask), which must differ.

const BATCH = 2;
const STEPS = 3;
const FEATURES = 3;
const UNITS = 2;
const RATE = 0.5;
const X = () => tf.tensor3d([...Array(BATCH * STEPS * FEATURES).keys()].map((i) => Math.sin(i + 1)), [BATCH, STEPS, FEATURES]);

/** `count` masks for the input and `count` for the state, as Keras draws them (1 / (1 - rate) or 0). */
function draws(layerName: string, count: number): { recorded: RecordedDraw[]; input: tf.Tensor[]; state: tf.Tensor[] } {
  const shapes = [...Array<number[]>(count).fill([BATCH, FEATURES]), ...Array<number[]>(count).fill([BATCH, UNITS])];
  const recorded = shapes.map((shape, index) => {
    const size = shape[0]! * shape[1]!;
    const values = tf.tensor(Array.from({ length: size }, (_, i) => ((i * 7 + index * 3) % 10) / 10), shape);
    const record: RandomDrawRecord = { kind: 'random_draw', layer_path: [layerName], call: 0, index, function: 'dropout', parameters: { rate: RATE }, shape, dtype: 'float32', offset: 0, byte_length: 4 * size };
    return { record, values };
  });
  const masks = recorded.map((d) => tf.div(tf.cast(tf.greaterEqual(d.values, RATE), 'float32'), 1 - RATE));
  return { recorded, input: masks.slice(0, count), state: masks.slice(count) };
}

/** The layer in a one-layer model, applied in training mode with `recorded` replayed. */
function replayed(layer: tf.layers.Layer, recorded: RecordedDraw[]): tf.Tensor {
  const input = tf.input({ shape: [STEPS, FEATURES] });
  const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
  const replay = new TrainingReplay(model, recorded);
  replay.newPass();
  const out = model.apply(X(), { training: true }) as tf.Tensor;
  assert.deepEqual(replay.unusedDraws(), []);
  replay.uninstall();
  return out;
}

function close(actual: tf.Tensor, expected: tf.Tensor, atol = 1e-6): void {
  const diff = tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]!;
  assert.ok(diff <= atol, `max abs difference ${diff} > ${atol}`);
}

function differs(a: tf.Tensor, b: tf.Tensor): void {
  assert.ok(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! > 1e-3, 'the wrong masks should change the output');
}

/** Keras's LSTMCell (implementation 1) over the sequence; gate g sees input mask g and state mask g. */
function kerasLSTM(weights: tf.Tensor[], input: tf.Tensor[], state: tf.Tensor[]): tf.Tensor {
  const [kernel, recurrent, bias] = weights as [tf.Tensor, tf.Tensor, tf.Tensor];
  const [ks, rs, bs] = [tf.split(kernel, 4, 1), tf.split(recurrent, 4, 1), tf.split(bias, 4)];
  let h: tf.Tensor = tf.zeros([BATCH, UNITS]);
  let c: tf.Tensor = tf.zeros([BATCH, UNITS]);
  for (const x of tf.unstack(X(), 1)) {
    const z = [0, 1, 2, 3].map((g) => tf.add(tf.add(tf.matMul(tf.mul(x, input[g]!), ks[g]!), bs[g]!), tf.matMul(tf.mul(h, state[g]!), rs[g]!)));
    c = tf.add(tf.mul(tf.sigmoid(z[1]!), c), tf.mul(tf.sigmoid(z[0]!), tf.tanh(z[2]!)));
    h = tf.mul(tf.sigmoid(z[3]!), tf.tanh(c));
  }
  return h;
}

/** Keras's GRUCell (implementation 1, reset_after=false); the new state mixes in the state before dropout. */
function kerasGRU(weights: tf.Tensor[], input: tf.Tensor[], state: tf.Tensor[]): tf.Tensor {
  const [kernel, recurrent, bias] = weights as [tf.Tensor, tf.Tensor, tf.Tensor];
  const [ks, rs, bs] = [tf.split(kernel, 3, 1), tf.split(recurrent, 3, 1), tf.split(bias, 3)];
  let h: tf.Tensor = tf.zeros([BATCH, UNITS]);
  for (const x of tf.unstack(X(), 1)) {
    const xs = [0, 1, 2].map((g) => tf.add(tf.matMul(tf.mul(x, input[g]!), ks[g]!), bs[g]!));
    const z = tf.sigmoid(tf.add(xs[0]!, tf.matMul(tf.mul(h, state[0]!), rs[0]!)));
    const r = tf.sigmoid(tf.add(xs[1]!, tf.matMul(tf.mul(h, state[1]!), rs[1]!)));
    const candidate = tf.tanh(tf.add(xs[2]!, tf.matMul(tf.mul(r, tf.mul(h, state[2]!)), rs[2]!)));
    h = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), candidate));
  }
  return h;
}

describe("keras-bridge recurrent layers: Keras's training-mode dropout", () => {
  it('KerasLSTM with recurrent_dropout applies one input and one state mask per gate', () => {
    const lstm = new KerasLSTM({ name: 'lstm', units: UNITS, dropout: RATE, recurrentDropout: RATE, recurrentActivation: 'sigmoid' });
    const { recorded, input, state } = draws('lstm', 4);
    const ours = replayed(lstm, recorded);
    close(ours, kerasLSTM(lstm.getWeights(), input, state));
    differs(ours, kerasLSTM(lstm.getWeights(), input.map(() => input[0]!), state.map(() => state[0]!)));
  });

  it('KerasLSTM with dropout only draws one input mask, shared by all gates', () => {
    const lstm = new KerasLSTM({ name: 'lstm', units: UNITS, dropout: RATE, recurrentActivation: 'sigmoid' });
    const { recorded, input } = draws('lstm', 1);
    const ones = tf.ones([BATCH, UNITS]);
    close(replayed(lstm, recorded.slice(0, 1)), kerasLSTM(lstm.getWeights(), Array(4).fill(input[0]), Array(4).fill(ones)));
  });

  it('KerasGRU (reset_after=false) with recurrent_dropout: per-gate masks, and the undropped state in the mix', () => {
    const gru = new KerasGRU({ name: 'gru', units: UNITS, resetAfter: false, dropout: RATE, recurrentDropout: RATE });
    const { recorded, input, state } = draws('gru', 3);
    const ours = replayed(gru, recorded);
    close(ours, kerasGRU(gru.getWeights(), input, state));
    differs(ours, kerasGRU(gru.getWeights(), input.map(() => input[0]!), state.map(() => state[0]!)));
  });

  it('KerasSimpleRNN draws one input and one state mask', () => {
    const rnn = new KerasSimpleRNN({ name: 'simple_rnn', units: UNITS, dropout: RATE, recurrentDropout: RATE });
    const { recorded, input, state } = draws('simple_rnn', 1);
    const out = replayed(rnn, recorded);
    const [kernel, recurrent, bias] = rnn.getWeights() as [tf.Tensor, tf.Tensor, tf.Tensor];
    let h: tf.Tensor = tf.zeros([BATCH, UNITS]);
    for (const x of tf.unstack(X(), 1)) h = tf.tanh(tf.add(tf.add(tf.matMul(tf.mul(x, input[0]!), kernel), bias), tf.matMul(tf.mul(h, state[0]!), recurrent)));
    close(out, h);
  });

  it('in inference no mask is drawn, and the configs round-trip', () => {
    for (const [layer, shape] of [
      [new KerasLSTM({ name: 'l', units: UNITS, dropout: RATE, recurrentDropout: RATE, unitForgetBias: false }), [STEPS, FEATURES]],
      [new KerasSimpleRNN({ name: 's', units: UNITS, dropout: RATE, activation: 'relu' }), [STEPS, FEATURES]],
    ] as const) {
      roundTripLayer(layer, [...shape]);
      const inference = layer.apply(X()) as tf.Tensor;
      close(layer.apply(X(), { training: false }) as tf.Tensor, inference, 0);
      differs(layer.apply(X(), { training: true }) as tf.Tensor, inference);
    }
  });
});
