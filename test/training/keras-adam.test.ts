import assert from 'node:assert/strict';
import tf from '#tfjs';
import { KerasAdam } from '../../src/training/keras-adam.js';

/** Keras 3's Adam (keras/src/optimizers/adam.py) in float64, for `steps` steps of the same gradient. */
function kerasAdam(w: number, g: number, steps: number, lr = 0.001, b1 = 0.9, b2 = 0.999, eps = 1e-7): number {
  let m = 0;
  let v = 0;
  for (let t = 1; t <= steps; t++) {
    const alpha = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
    m += (g - m) * (1 - b1);
    v += (g * g - v) * (1 - b2);
    w -= (m * alpha) / (Math.sqrt(v) + eps);
  }
  return w;
}

async function train(optimizer: tf.Optimizer, gradients: number[], steps: number): Promise<Float32Array> {
  const w = tf.variable(tf.zeros([gradients.length]));
  const g = tf.tensor1d(gradients);
  for (let i = 0; i < steps; i++) optimizer.applyGradients({ [w.name]: g });
  const values = (await w.data()) as Float32Array;
  tf.dispose([w, g]);
  optimizer.dispose();
  return values;
}

describe('KerasAdam: Adam as Keras 3 computes it', () => {
  // From gradients well above epsilon to gradients of its order, where the two placements of
  // epsilon part.
  const gradients = [1, -0.3, 1e-3, 1e-5, -1e-6, 1e-7, 0];

  it('matches Keras\'s formula over 3 steps for every gradient size', async () => {
    const ours = await train(new KerasAdam({ learningRate: 0.001 }), gradients, 3);
    gradients.forEach((g, i) => assert.ok(Math.abs(ours[i]! - kerasAdam(0, g, 3)) <= 1e-9 + 1e-5 * Math.abs(kerasAdam(0, g, 3)), `g=${g}: ${ours[i]} vs ${kerasAdam(0, g, 3)}`));
  });

  it("tfjs's tf.train.adam departs from Keras where gradients approach epsilon: its epsilon is not scaled by sqrt(1 - beta2^t)", async () => {
    const stock = await train(tf.train.adam(0.001, 0.9, 0.999, 1e-7), gradients, 1);
    const relative = gradients.map((g, i) => (g === 0 ? 0 : Math.abs(stock[i]! - kerasAdam(0, g, 1)) / Math.abs(kerasAdam(0, g, 1))));
    assert.ok(relative[0]! < 1e-5, `large gradients agree: ${relative[0]}`);
    assert.ok(relative[4]! > 0.05, `|g| = 1e-6 differs by ${relative[4]}`);
    assert.ok(relative[5]! > 0.5, `|g| = 1e-7 differs by ${relative[5]}`);
  });

  it('keeps moments per variable and round-trips its config', async () => {
    const optimizer = new KerasAdam({ learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 });
    assert.deepEqual(optimizer.getConfig(), { learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 });
    const a = tf.variable(tf.scalar(1));
    const b = tf.variable(tf.scalar(1));
    optimizer.applyGradients({ [a.name]: tf.scalar(1) });
    optimizer.applyGradients({ [a.name]: tf.scalar(1), [b.name]: tf.scalar(1) });
    assert.notEqual((await a.data())[0], (await b.data())[0]);
    assert.equal(optimizer.iterations, 2);
    tf.dispose([a, b]);
    optimizer.dispose();
  });
});
