import assert from 'node:assert/strict';
import tf from '#tfjs';
import '../../../src/runtime.js';
import { probeBackend, useBackend } from '../../../src/backends/index.js';
import { KerasBatchNormalization } from '../../../src/layers/keras3/batch-normalization.js';
import { restoresBackend } from '../../support/backend-suite.js';

/** Deterministic values in (-scale, scale) around `shift`, different for each seed. */
function values(shape: number[], seed: number, scale = 1, shift = 0): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, (_, i) => shift + scale * Math.sin(seed * 7919 + i * 12.9898)), shape);
}

/** gamma, beta, moving mean, moving variance for 4 channels. */
const weights = () => [values([4], 1, 0.5, 1), values([4], 2), values([4], 3), values([4], 4, 0.5, 1)];

/** Output, gradients w.r.t. x, gamma and beta, and the moving statistics after one training call. */
function trainingStep(layer: tf.layers.Layer, x: tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const trainable = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const input = tf.variable(x);
    let output: Float32Array = new Float32Array();
    const { value, grads } = tf.variableGrads(() => {
      const y = layer.apply(input, { training: true }) as tf.Tensor;
      output = y.dataSync() as Float32Array;
      return tf.sum(tf.mul(y, values(x.shape, 9))) as tf.Scalar;
    }, [input, ...trainable]);
    value.dispose();
    const result = [output, ...[input, ...trainable].map((v) => grads[v.name]!.dataSync() as Float32Array), ...layer.getWeights().slice(2).map((w) => w.dataSync() as Float32Array)];
    input.dispose();
    return result;
  });
}

// keras-bridge's runtime computes tfjs-layers' own BatchNormalization in training as Keras 3 does
// (src/layers/fixes/batch-normalization-training.ts): what KerasBatchNormalization computes.
describe("tfjs-layers' BatchNormalization in training mode, with keras-bridge's runtime", function () {
  restoresBackend();

  for (const backend of ['cpu', 'wasm', 'tensorflow'] as const) {
    describe(backend, () => {
      before(async function () {
        if (!(await probeBackend(backend)).available) this.skip();
        await useBackend(backend);
      });

      it("computes Keras's training step bit for bit: batch statistics, output, gradients, moving statistics moved as moving·momentum + batch·(1 - momentum)", () => {
        const x = values([3, 5, 4], 5, 3, 2);
        const stock = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3, inputShape: [5, 4] });
        const keras = new KerasBatchNormalization({ momentum: 0.9, epsilon: 1e-3 });
        for (const layer of [stock, keras]) {
          layer.apply(tf.input({ shape: [5, 4] }));
          layer.setWeights(weights());
        }
        const [ours, theirs] = [trainingStep(stock, x), trainingStep(keras, x)];
        assert.equal(ours.length, 6);
        ours.forEach((a, k) => assert.deepEqual(Array.from(a), Array.from(theirs[k]!), `result ${k}`));
        // The moving mean moved towards the batch's mean, as Keras moves it.
        const batchMean = tf.tidy(() => tf.mean(x, [0, 1]).dataSync());
        const expected = weights()[2]!.dataSync().map((m, c) => m * 0.9 + batchMean[c]! * (1 - 0.9));
        ours[4]!.forEach((v, c) => assert.ok(Math.abs(v - expected[c]!) <= 1e-6, `moving mean ${c}: ${v} against ${expected[c]}`));
        x.dispose();
      });

      it('a frozen layer (trainable false) computes as at inference in training, its moving statistics unmoved, as in Keras 3', () => {
        const x = values([3, 5, 4], 6, 3, 2);
        const layer = tf.layers.batchNormalization({ inputShape: [5, 4] });
        layer.apply(tf.input({ shape: [5, 4] }));
        layer.setWeights(weights());
        layer.trainable = false;
        const [training, inference] = tf.tidy(() => [(layer.apply(x, { training: true }) as tf.Tensor).dataSync(), (layer.apply(x, { training: false }) as tf.Tensor).dataSync()]);
        assert.deepEqual(Array.from(training!), Array.from(inference!));
        assert.deepEqual(Array.from(layer.getWeights()[2]!.dataSync()), Array.from(weights()[2]!.dataSync()));
        x.dispose();
      });
    });
  }
});
