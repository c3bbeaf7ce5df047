import assert from 'node:assert/strict';
import tf from '#tfjs';
import { sharedZeros, withoutInitializers } from '../../src/convert/skip-initializers.js';

/** The typed array tfjs's cpu backend holds for a tensor (no copy: readSync returns it). */
const heldValues = (t: tf.Tensor): ArrayBufferView => tf.backend().readSync(t.dataId) as ArrayBufferView;

// Building the converted model only tells its weights' names and shapes (convert-model.ts): its
// variables are zeros that share one buffer, not a new cleared allocation each.
describe('skip-initializers: the planning build creates no weight values of its own', () => {
  let backend: string;
  before(async () => {
    await tf.ready();
    backend = tf.getBackend();
    await tf.setBackend('cpu');
  });
  after(async () => void (await tf.setBackend(backend)));

  it('sharedZeros: float32 and int32 zeros of any shape, all viewing one buffer as large as the largest', () => {
    const zeros = sharedZeros();
    const made = [zeros.apply([3, 4]), zeros.apply([1000], 'float32'), zeros.apply([2, 5], 'int32'), zeros.apply([0, 3])];
    try {
      assert.deepEqual(made.map((t) => [t.dtype, t.shape]), [['float32', [3, 4]], ['float32', [1000]], ['int32', [2, 5]], ['float32', [0, 3]]]);
      for (const t of made) assert.ok([...t.dataSync()].every((v) => v === 0), `${t.dtype} [${t.shape}] all zeros`);
      // The buffer grows once, for the 1000 values; what follows views it.
      const buffers = made.slice(1).map((t) => heldValues(t).buffer);
      assert.ok(buffers.every((b) => b === buffers[0]), 'one buffer from the largest on');
      assert.equal(buffers[0]!.byteLength, 4000);
    } finally {
      tf.dispose(made);
    }
  });

  it('sharedZeros: other dtypes take tfjs zeros', () => {
    const made = [sharedZeros().apply([2], 'complex64'), sharedZeros().apply([3], 'bool')];
    assert.deepEqual(made.map((t) => [t.dtype, t.shape]), [['complex64', [2]], ['bool', [3]]]);
    assert.deepEqual([...made[1]!.dataSync()], [0, 0, 0]);
    tf.dispose(made);
  });

  it('a model built without initializers has zero weights sharing one buffer; setting one leaves the others zeros; addWeight is restored', async () => {
    const prototype = tf.layers.Layer.prototype as unknown as { addWeight: unknown };
    const original = prototype.addWeight;
    const model = await withoutInitializers(async () => {
      const input = tf.input({ shape: [8] });
      const hidden = tf.layers.dense({ units: 16, kernelInitializer: 'glorotUniform', biasInitializer: 'ones' }).apply(input) as tf.SymbolicTensor;
      const output = tf.layers.dense({ units: 4, kernelInitializer: 'randomNormal' }).apply(hidden) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: output });
    });
    try {
      assert.equal(prototype.addWeight, original);
      const weights = model.weights.map((w) => w.read());
      assert.deepEqual(weights.map((w) => w.shape), [[8, 16], [16], [16, 4], [4]]);
      for (const w of weights) assert.ok([...w.dataSync()].every((v) => v === 0));
      assert.ok(weights.every((w) => heldValues(w).buffer === heldValues(weights[0]!).buffer));
      model.layers[1]!.setWeights([tf.ones([8, 16]), tf.fill([16], 2)]);
      assert.equal(model.layers[1]!.getWeights()[1]!.dataSync()[0], 2);
      assert.ok([...model.layers[2]!.getWeights()[0]!.dataSync()].every((v) => v === 0), 'the next layer still zeros');
      // After the build, a layer's initializer is its own again.
      const dense = tf.layers.dense({ units: 2, biasInitializer: 'ones', inputShape: [3] });
      dense.build([null, 3]);
      assert.deepEqual([...dense.getWeights()[1]!.dataSync()], [1, 1]);
    } finally {
      model.dispose();
    }
  });
});
