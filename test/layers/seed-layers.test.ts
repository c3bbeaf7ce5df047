import assert from 'node:assert/strict';
import tf from '#tfjs';
import { CustomRiskLayer, SwishActivation, TemporalWeighting } from '../../src/layers/seed/index.js';
import { findCustomLayer } from '../../src/registry/custom-layer-registry.js';
import { roundTripLayer } from '../support/layer-harness.js';

describe('seed layers in TypeScript', () => {
  it('are registered with keras-bridge and with tfjs serialization under their Keras class names', () => {
    for (const cls of [SwishActivation, TemporalWeighting, CustomRiskLayer]) {
      assert.equal(findCustomLayer(cls.className)?.layerClass, cls);
      assert.ok(cls.className in tf.serialization.SerializationMap.getMap().classNameMap);
    }
  });

  it('SwishActivation computes x * sigmoid(x) and keeps its shape', () => {
    const { layer, output } = roundTripLayer(new SwishActivation({ name: 's' }), [3]);
    const x = tf.tensor([-2, -0.5, 0, 0.5, 2, 4], [2, 3]);
    const expected = x.mul(tf.sigmoid(x));
    assert.deepEqual(output.shape, [null, 3]);
    assert.ok(tf.max(tf.abs(tf.sub(layer.apply(x) as tf.Tensor, expected))).dataSync()[0]! < 1e-7);
  });

  it('TemporalWeighting keeps units in its config, has one [in, units] kernel, and broadcasts over leading dims', () => {
    const { layer, output } = roundTripLayer(new TemporalWeighting({ name: 't', units: 5 }), [7, 10]);
    assert.equal((layer as TemporalWeighting).units, 5);
    assert.deepEqual(layer.weights.map((w) => w.shape), [[10, 5]]);
    assert.deepEqual(output.shape, [null, 7, 5]);
    const kernel = layer.weights[0]!.read();
    const values = kernel.dataSync();
    // Keras's 'uniform' initializer draws from U(-0.05, 0.05).
    assert.ok(values.every((v) => v >= -0.05 && v <= 0.05) && new Set(values).size > 1);
    const x = tf.randomNormal([2, 7, 10]);
    const y = layer.apply(x) as tf.Tensor;
    const perRow = tf.stack(tf.unstack(x).map((row) => tf.matMul(row, kernel)));
    assert.ok(tf.max(tf.abs(tf.sub(y, perRow))).dataSync()[0]! < 1e-6);
  });

  it('CustomRiskLayer is mean over axis 1 with keepdims, and differentiable in tfjs', () => {
    const { layer, output } = roundTripLayer(new CustomRiskLayer({ name: 'r' }), [64]);
    assert.deepEqual(output.shape, [null, 1]);
    const x = tf.randomNormal([2, 64]);
    const y = layer.apply(x) as tf.Tensor;
    assert.ok(tf.max(tf.abs(tf.sub(y, tf.mean(x, 1, true)))).dataSync()[0]! < 1e-6);
    const grad = tf.grad((v: tf.Tensor) => tf.sum(layer.apply(v) as tf.Tensor))(x);
    assert.ok(grad.dataSync().every((g) => Math.abs(g - 1 / 64) < 1e-8));
  });
});
