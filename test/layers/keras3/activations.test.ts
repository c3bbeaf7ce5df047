import assert from 'node:assert/strict';
import tf from '#tfjs';
import { tfjsActivationFor } from '../../../src/convert/activations.js';
import { KERAS3_ACTIVATIONS } from '../../../src/layers/keras3/activations/index.js';

function applyNamed(kerasName: string, values: number[], shape = [values.length]): number[] {
  const cls = KERAS3_ACTIVATIONS[kerasName]!;
  return Array.from(new cls().apply(tf.tensor(values, shape)).dataSync());
}

function assertClose(actual: number[], expected: number[]): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) < 1e-6, `[${i}]: ${a} vs ${expected[i]}`));
}

describe('Keras 3 activations tfjs lacks', () => {
  it('are registered with tfjs serialization and are what the converter maps their Keras names to', () => {
    const registered = tf.serialization.SerializationMap.getMap().classNameMap;
    for (const [kerasName, cls] of Object.entries(KERAS3_ACTIVATIONS)) {
      assert.ok(cls.className in registered, cls.className);
      assert.equal(tfjsActivationFor(kerasName), cls.className);
    }
    assert.equal(tfjsActivationFor('hard_swish'), tfjsActivationFor('hard_silu'));
  });

  it('survive tfjs saving (snake_case) and loading (camelCase) a model that uses them', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3], activation: 'kerasHardSigmoid' as 'relu' })] });
    const saved = model.toJSON(null, false) as object;
    assert.match(JSON.stringify(saved), /"activation":"keras_hard_sigmoid"/);
    const loaded = await tf.models.modelFromJSON(saved as tf.io.ModelJSON['modelTopology'] as never);
    assert.equal((loaded.layers[0]!.getConfig() as { activation: string }).activation, 'kerasHardSigmoid');
  });

  it("compute Keras 3's formulas, not tfjs's namesakes", () => {
    assertClose(applyNamed('hard_sigmoid', [-4, -3, 0, 1, 3, 4]), [0, 0, 0.5, 4 / 6, 1, 1]);
    assertClose(applyNamed('hard_silu', [-4, 1, 4]), [0, 4 / 6, 4]);
    assertClose(applyNamed('leaky_relu', [-1, 2]), [-0.2, 2]);
    assertClose(applyNamed('celu', [-1, 2]), [Math.expm1(-1), 2]);
    assertClose(applyNamed('squareplus', [0, 3]), [1, (3 + Math.sqrt(13)) / 2]);
    assertClose(applyNamed('soft_shrink', [-1, 0.2, 1]), [-0.5, 0, 0.5]);
    assertClose(applyNamed('hard_shrink', [-1, 0.2, 1]), [-1, 0, 1]);
    assertClose(applyNamed('sparse_plus', [-2, 0, 2]), [0, 0.25, 2]);
    assertClose(applyNamed('glu', [1, 2, 0, 3], [1, 4]), [1 / (1 + Math.exp(0)), 2 / (1 + Math.exp(-3))]);
  });

  it("sparsemax is Keras's variant: τ sums the cumulative sums over the support", () => {
    // keras.activations.sparsemax([[1.0, 0.8, 0.1]]) gives [[0.1, 0, 0]] on every Keras backend.
    assertClose(applyNamed('sparsemax', [1, 0.8, 0.1], [1, 3]), [0.1, 0, 0]);
  });

  it('piecewise activations are differentiable in tfjs (conditions count as constants)', () => {
    for (const name of ['sparse_plus', 'soft_shrink', 'hard_shrink', 'sparse_sigmoid', 'sparsemax']) {
      const cls = KERAS3_ACTIVATIONS[name]!;
      const grad = tf.grad((x: tf.Tensor) => tf.sum(new cls().apply(x)))(tf.tensor([[-2, -0.7, 0.3, 0.9, 2]]));
      assert.ok(grad.dataSync().every(Number.isFinite), name);
    }
  });
});
