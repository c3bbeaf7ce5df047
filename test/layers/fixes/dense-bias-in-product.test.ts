import assert from 'node:assert/strict';
import tf from '#tfjs';
import '../../../src/runtime.js';
import { probeBackend, useBackend } from '../../../src/backends/index.js';
import { values } from '../../support/sine-values.js';
import { restoresBackend } from '../../support/backend-suite.js';

/** tfjs-layers' own Dense, operation by operation: the product, the bias added, the activation. */
function separately(x: tf.Tensor, kernel: tf.Tensor2D, bias: tf.Tensor1D, activation: string): tf.Tensor {
  const rows = tf.reshape(x, [-1, kernel.shape[0]]);
  const y = tf.reshape(tf.add(tf.matMul(rows, kernel), bias), [...x.shape.slice(0, -1), kernel.shape[1]]);
  return tf.layers.activation({ activation: activation as 'tanh' }).apply(y) as tf.Tensor;
}

// [activation, input shape, units]: rank 2 and 3, small (XNNPACK on wasm) and large enough for keras-bridge's tiles.
const CASES: Array<[string, number[], number]> = [
  ['tanh', [5, 12], 8],
  ['gelu', [2, 7, 12], 16],
  ['sigmoid', [3, 4, 6], 4],
  ['softmax', [6, 10], 12],
  ['gelu', [4, 128, 64], 256],
];

describe("Dense's bias in its product where tfjs-layers adds it apart (layers/fixes/dense-bias-in-product.ts)", function () {
  restoresBackend();

  for (const backend of ['cpu', 'wasm', 'tensorflow'] as const) {
    for (const [activation, shape, units] of CASES) {
      it(`${backend}: Dense(${units}, ${activation}) on [${shape}] predicts with one fused product and no separate Add, tfjs-layers' values; gradients as before`, async function () {
        if (!(await probeBackend(backend)).available) this.skip();
        await useBackend(backend);
        const inputs = shape[shape.length - 1]!;
        const layer = tf.layers.dense({ units, activation: activation as 'tanh', inputShape: shape.slice(1) });
        const model = tf.sequential({ layers: [layer] });
        const [kernel, bias] = [values([inputs, units], 1) as tf.Tensor2D, values([units], 2) as tf.Tensor1D];
        layer.setWeights([kernel, bias]);
        const x = values(shape, 3);
        // On wasm a kernel is a weight of the tiles' from its second product (fused-mat-mul-tiles.ts).
        tf.dispose(model.predict(x));
        const before = tf.memory().numTensors;
        let predicted: number[] = [];
        const profile = await tf.profile(() => {
          predicted = tf.tidy(() => Array.from((model.predict(x) as tf.Tensor).dataSync()));
        });
        const kernels = profile.kernels.map((k) => k.name);
        assert.ok(kernels.includes('_FusedMatMul'), kernels.join(', '));
        // No add beyond the activation's own (gelu's composition adds 1 to erf where it is not one kernel).
        const adds = (names: string[]) => names.filter((k) => k === 'Add' || k === 'BiasAdd').length;
        const activationAlone = await tf.profile(() => tf.layers.activation({ activation: activation as 'tanh' }).apply(x) as tf.Tensor);
        tf.dispose(activationAlone.result);
        // tfjs-node's fused product is itself a MatMul and an Add called as tfjs kernels.
        if (backend !== 'tensorflow') assert.equal(adds(kernels), adds(activationAlone.kernels.map((k) => k.name)), kernels.join(', '));
        const expected = tf.tidy(() => Array.from(separately(x, kernel, bias, activation).dataSync()));
        // Bit for bit, except where wasm's XNNPACK starts its sums from the bias (below the tiles' size).
        const exact = backend !== 'wasm' || shape.slice(0, -1).reduce((a, b) => a * b, 1) * inputs * units >= 1 << 21;
        if (exact) assert.deepEqual(predicted, expected);
        else predicted.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= 1e-6 * (1 + Math.abs(expected[i]!)), `[${i}] ${v} against ${expected[i]}`));
        assert.equal(tf.memory().numTensors, before, 'tensors left behind');
        // Under a tape tfjs-layers' own call runs: the same gradients as its operations.
        const weigh = (y: tf.Tensor) => tf.sum(tf.mul(y, values(y.shape, 4)));
        const viaLayer = tf.grads((input: tf.Tensor) => weigh(layer.apply(input) as tf.Tensor))([x]);
        const composed = tf.grads((input: tf.Tensor) => weigh(separately(input, kernel, bias, activation)))([x]);
        assert.deepEqual(Array.from(viaLayer[0]!.dataSync()), Array.from(composed[0]!.dataSync()));
        tf.dispose([x, kernel, bias, ...viaLayer, ...composed]);
        model.dispose();
      });
    }
  }
});
