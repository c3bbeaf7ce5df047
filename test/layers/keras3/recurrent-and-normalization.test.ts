import assert from 'node:assert/strict';
import tf from '#tfjs';
import { KerasBatchNormalization } from '../../../src/layers/keras3/batch-normalization.js';
import { KerasGRU } from '../../../src/layers/keras3/gru.js';
import { KerasLayerNormalization } from '../../../src/layers/keras3/layer-normalization.js';
import { KerasLSTM } from '../../../src/layers/keras3/lstm.js';
import { registerMaskGradients } from '../../../src/layers/keras3/mask-gradients.js';
import { KerasSimpleRNN } from '../../../src/layers/keras3/simple-rnn.js';
import { roundTripLayer } from '../../support/layer-harness.js';

// keras-bridge's recurrent and normalization layers: configs, weights in Keras's order, and what
// differs from tfjs-layers' own classes. Values are checked against Keras by the layer zoo
// (fixtures/zoo/recurrent.py, embedding.py, normalization.py).

const X = () => tf.tensor3d([...Array(2 * 4 * 3).keys()].map((i) => Math.sin(i)), [2, 4, 3]);
/** Sample 0 has timesteps 1 and 3 masked; sample 1 none. */
const MASK = () => tf.tensor2d([[1, 0, 1, 0], [1, 1, 1, 1]], [2, 4], 'bool');

function shapes(layer: tf.layers.Layer): number[][] {
  return layer.weights.map((w) => w.shape as number[]);
}

function close(actual: tf.Tensor, expected: tf.Tensor, atol = 1e-6): void {
  const diff = tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]!;
  assert.ok(diff <= atol, `max abs difference ${diff} > ${atol}`);
}

describe('keras-bridge recurrent layers', () => {
  it('KerasGRU round-trips its config and creates the weights Keras 3 does (bias [2, 3·units] with reset_after)', () => {
    const { layer } = roundTripLayer(new KerasGRU({ name: 'g', units: 3, returnSequences: true, zeroOutputForMask: true }), [4, 2]);
    assert.deepEqual(shapes(layer), [[2, 9], [3, 9], [2, 9]]);
    const { layer: before } = roundTripLayer(new KerasGRU({ name: 'g2', units: 3, resetAfter: false, useBias: true }), [4, 2]);
    assert.deepEqual(shapes(before), [[2, 9], [3, 9], [9]]);
  });

  it("KerasGRU with reset_after=false computes what tfjs-layers' GRU computes", () => {
    const ours = new KerasGRU({ name: 'ours', units: 3, resetAfter: false, returnSequences: true });
    const theirs = tf.layers.gru({ name: 'theirs', units: 3, recurrentActivation: 'sigmoid', returnSequences: true });
    ours.apply(X());
    theirs.apply(X());
    theirs.setWeights(ours.getWeights());
    close(ours.apply(X()) as tf.Tensor, theirs.apply(X()) as tf.Tensor);
  });

  it('KerasGRU applies dropout only when training', () => {
    const gru = new KerasGRU({ name: 'd', units: 3, dropout: 0.5, recurrentDropout: 0.5 });
    const inference = gru.apply(X()) as tf.Tensor;
    close(gru.apply(X(), { training: false }) as tf.Tensor, inference, 0);
    const training = gru.apply(X(), { training: true }) as tf.Tensor;
    assert.ok(tf.max(tf.abs(tf.sub(training, inference))).dataSync()[0]! > 0);
  });

  for (const [name, make] of [
    ['KerasLSTM', (zero: boolean) => new KerasLSTM({ units: 2, returnSequences: true, recurrentActivation: 'sigmoid', zeroOutputForMask: zero })],
    ['KerasSimpleRNN', (zero: boolean) => new KerasSimpleRNN({ units: 2, returnSequences: true, zeroOutputForMask: zero })],
    ['KerasGRU', (zero: boolean) => new KerasGRU({ units: 2, returnSequences: true, zeroOutputForMask: zero })],
  ] as const) {
    it(`${name}: zero_output_for_mask zeroes masked timesteps of the sequence and changes nothing else`, () => {
      const zeroing = make(true);
      const carrying = make(false);
      zeroing.apply(X());
      carrying.apply(X());
      carrying.setWeights(zeroing.getWeights());
      const zeroed = zeroing.call(X(), { mask: MASK() }) as tf.Tensor;
      const carried = carrying.call(X(), { mask: MASK() }) as tf.Tensor;
      const weights = tf.expandDims(tf.cast(MASK(), 'float32'), -1);
      close(zeroed, tf.mul(carried, weights), 0);
      assert.ok(tf.sum(tf.abs(tf.sub(carried, zeroed))).dataSync()[0]! > 0, 'tfjs repeats the previous output at masked steps');
      close(zeroing.call(X(), {}) as tf.Tensor, carrying.call(X(), {}) as tf.Tensor, 0);
    });
  }

  it('a backwards layer zeroes the reversed mask: its sequence is in processing order', () => {
    const lstm = new KerasLSTM({ units: 2, returnSequences: true, goBackwards: true, zeroOutputForMask: true });
    lstm.apply(X());
    const out = lstm.call(X(), { mask: MASK() }) as tf.Tensor;
    const sample0 = (out.arraySync() as number[][][])[0]!;
    // Mask [1, 0, 1, 0] reversed is [0, 1, 0, 1]: processing steps 0 and 2 are masked.
    assert.ok([0, 2].every((t) => sample0[t]!.every((v) => v === 0)), JSON.stringify(sample0));
    assert.ok(sample0[1]!.some((v) => v !== 0) && sample0[3]!.some((v) => v !== 0));
  });
});

describe('keras-bridge normalization layers', () => {
  it('KerasBatchNormalization: Keras weight order, inference with moving statistics, training moves them', () => {
    const { layer } = roundTripLayer(new KerasBatchNormalization({ name: 'bn', axis: 1, momentum: 0.5, center: false }), [4, 3]);
    assert.deepEqual(layer.weights.map((w) => [w.originalName.split('/').pop(), w.trainable]), [
      ['gamma', true],
      ['moving_mean', false],
      ['moving_variance', false],
    ]);
    const x = X();
    close(layer.apply(x) as tf.Tensor, tf.div(x, tf.sqrt(tf.scalar(1 + 1e-3))));
    layer.apply(x, { training: true });
    const batchMean = tf.mean(x, [0, 2]);
    close(layer.getWeights()[1]!, tf.mul(batchMean, 0.5));
  });

  it('KerasBatchNormalization and KerasLayerNormalization differentiate without gamma or beta', () => {
    const bn = new KerasBatchNormalization({ axis: 1, scale: false });
    const ln = new KerasLayerNormalization({ axis: [1, 2], center: false });
    for (const layer of [bn, ln]) {
      const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.square(layer.apply(x) as tf.Tensor)))(X());
      assert.deepEqual(grad.shape, [2, 4, 3]);
      assert.ok(Number.isFinite(tf.sum(grad).dataSync()[0]!));
    }
    assert.deepEqual(shapes(roundTripLayer(ln, [4, 3]).layer), [[4, 3]]);
  });
});

describe('gradients of mask ops', () => {
  it('comparisons and logical reductions have zero gradients, so Masking can be differentiated', () => {
    registerMaskGradients();
    const masking = tf.layers.masking({ maskValue: 0 });
    const x = tf.tensor3d([[[1, 2], [0, 0], [3, 4]]]);
    const grad = tf.grad((input: tf.Tensor) => tf.sum(masking.apply(input) as tf.Tensor))(x);
    assert.deepEqual(grad.arraySync(), [[[1, 1], [0, 0], [1, 1]]]);
  });
});
