import assert from 'node:assert/strict';
import tf from '#tfjs';
import type { RandomDrawRecord } from '../../src/keras/bundle-manifest.js';
import { inSubLayer, random, ReplayMismatchError } from '../../src/training/replayable-random.js';
import { TrainingReplay } from '../../src/training/training-replay.js';

function drawRecord(layerPath: string[], fn: string, shape: number[], call = 0): RandomDrawRecord {
  return { kind: 'random_draw', layer_path: layerPath, call, index: 0, function: fn, parameters: {}, shape, dtype: 'float32', offset: 0, byte_length: 4 * shape.reduce((a, b) => a * b, 1) };
}

/** Draws like Keras's MultiHeadAttention: through its own (auto-named) Dropout sub-layer. */
class SubLayerDropout extends tf.layers.Layer {
  static readonly className = 'SubLayerDropout';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return inSubLayer('dropout', () => random.dropout(x, 0.5));
  }
}

function subLayerModel(): tf.LayersModel {
  const input = tf.input({ shape: [4] });
  return tf.model({ inputs: input, outputs: new SubLayerDropout({ name: 'attention' }).apply(input) as tf.SymbolicTensor });
}

function dropoutModel(): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.dropout({ rate: 0.5, inputShape: [4], name: 'dropout' }));
  return model;
}

describe('TrainingReplay: Keras\'s random draws in a tfjs model', () => {
  const x = () => tf.tensor2d([[1, 2, 3, 4]]);

  it("replays a Dropout mask through tfjs's own arithmetic (x * mask / keep), and puts the layer's call back", async () => {
    const model = dropoutModel();
    const u = tf.tensor2d([[0.1, 0.9, 0.5, 0.49]]);
    const replay = new TrainingReplay(model, [{ record: drawRecord(['dropout'], 'dropout', [1, 4]), values: u }]);
    replay.newPass();
    const out = model.apply(x(), { training: true }) as tf.Tensor;
    assert.deepEqual(Array.from(await out.data()), [0, 4, 6, 0]);
    assert.deepEqual(replay.unusedDraws(), []);
    replay.uninstall();
    assert.equal(Object.prototype.hasOwnProperty.call(model.getLayer('dropout'), 'call'), false);
    tf.dispose([u, out]);
    model.dispose();
  });

  it('a draw of another shape than Keras recorded is a ReplayMismatchError naming the layer', () => {
    const model = dropoutModel();
    const u = tf.zeros([1, 3]);
    const replay = new TrainingReplay(model, [{ record: drawRecord(['dropout'], 'dropout', [1, 3]), values: u }]);
    replay.newPass();
    assert.throws(() => model.apply(x(), { training: true }), (e: unknown) => e instanceof ReplayMismatchError && /layer 'dropout', call 0, draw 0: tfjs drew dropout \[1, 4\] where Keras drew dropout \[1, 3\]/.test((e as Error).message));
    replay.uninstall();
    tf.dispose(u);
    model.dispose();
  });

  it('draws for a layer the converted model lacks are named as not replayed', () => {
    const model = dropoutModel();
    const z = tf.zeros([1, 4]);
    const replay = new TrainingReplay(model, [{ record: drawRecord(['attention', 'dropout'], 'dropout', [1, 4]), values: z }]);
    replay.newPass();
    model.apply(x(), { training: false });
    assert.deepEqual(replay.unusedDraws(), ["layer 'attention/dropout': 1 random draw(s) (dropout) not replayed: the converted model has no layer at that path"]);
    replay.uninstall();
    tf.dispose(z);
    model.dispose();
  });

  it("finds a sub-layer's draws under Keras's numbered auto-name (dropout_3), and refuses an ambiguous one", async () => {
    const u = tf.tensor2d([[0.1, 0.9, 0.5, 0.49]]);
    const model = subLayerModel();
    const ours = new TrainingReplay(model, [{ record: drawRecord(['attention', 'dropout_3'], 'dropout', [1, 4]), values: u }]);
    ours.newPass();
    const out = model.apply(x(), { training: true }) as tf.Tensor;
    assert.deepEqual(Array.from(await out.data()), [0, 4, 6, 0]);
    assert.deepEqual(ours.unusedDraws(), []);
    ours.uninstall();

    const ambiguous = subLayerModel();
    const both = new TrainingReplay(ambiguous, [
      { record: drawRecord(['attention', 'dropout_1'], 'dropout', [1, 4]), values: u },
      { record: drawRecord(['attention', 'dropout_2'], 'dropout', [1, 4]), values: u },
    ]);
    both.newPass();
    assert.throws(() => ambiguous.apply(x(), { training: true }), /layer 'attention': its sub-layer 'dropout' is ambiguous, Keras recorded draws for dropout_1, dropout_2/);
    both.uninstall();
    tf.dispose([u, out]);
  });

  it("a sub-layer's draws the layer did not make are named with the layer that should have", () => {
    const model = dropoutModel();
    const z = tf.zeros([1, 4]);
    const replay = new TrainingReplay(model, [{ record: drawRecord(['dropout', 'inner'], 'dropout', [1, 4]), values: z }]);
    replay.newPass();
    model.apply(x(), { training: false });
    assert.deepEqual(replay.unusedDraws(), ["layer 'dropout/inner': 1 random draw(s) (dropout) not replayed: the converted model has no layer at that path, and its layer 'dropout' (Dropout) did not draw them"]);
    replay.uninstall();
    tf.dispose(z);
  });

  it('a layer evaluated again on the same input tensors (tfjs, once per output) replays the same call', async () => {
    const model = dropoutModel();
    const u = tf.tensor2d([[0.1, 0.9, 0.5, 0.49]]);
    const replay = new TrainingReplay(model, [{ record: drawRecord(['dropout'], 'dropout', [1, 4]), values: u }]);
    replay.newPass();
    const input = x();
    const layer = model.getLayer('dropout');
    const [first, again] = [layer.call(input, { training: true }), layer.call(input, { training: true })] as tf.Tensor[];
    assert.deepEqual(Array.from(await again!.data()), Array.from(await first!.data()));
    assert.throws(() => layer.call(x(), { training: true }), /layer 'dropout', call 1, draw 0: tfjs drew dropout \[1, 4\], which Keras did not draw/);
    replay.uninstall();
    tf.dispose([u, input, first!, again!]);
  });

  it("replays TimeDistributed's layer once per timestep, in time order, each timestep's draw its own call (as Keras's loop)", async () => {
    const input = tf.input({ shape: [3, 2] });
    const wrapper = tf.layers.timeDistributed({ layer: tf.layers.dropout({ rate: 0.5, name: 'dropout' }), name: 'time_distributed' });
    const model = tf.model({ inputs: input, outputs: wrapper.apply(input) as tf.SymbolicTensor });
    const perStep = [[[0.1, 0.9]], [[0.9, 0.1]], [[0.6, 0.6]]].map((u) => tf.tensor2d(u));
    const replay = new TrainingReplay(model, perStep.map((values, call) => ({ record: drawRecord(['time_distributed', 'dropout'], 'dropout', [1, 2], call), values })));
    replay.newPass();
    const out = model.apply(tf.tensor3d([[[1, 2], [3, 4], [5, 6]]]), { training: true }) as tf.Tensor;
    assert.deepEqual(Array.from(await out.data()), [0, 4, 6, 0, 10, 12]);
    assert.deepEqual(replay.unusedDraws(), []);
    replay.uninstall();

    const once = new TrainingReplay(model, [{ record: drawRecord(['time_distributed', 'dropout'], 'dropout', [1, 2]), values: perStep[0]! }]);
    once.newPass();
    assert.throws(() => model.apply(tf.ones([1, 3, 2]), { training: true }), /layer 'time_distributed\/dropout', call 1, draw 0: tfjs drew dropout \[1, 2\], which Keras did not draw/);
    once.uninstall();
    tf.dispose([...perStep, out]);
    model.dispose();
  });

  it('outside a replay, random draws fresh numbers with its parameters applied', async () => {
    const mask = random.dropoutMask([1000], 0.25);
    const kept = (await mask.sum().data())[0]!;
    assert.ok(kept > 650 && kept < 850, `kept ${kept} of 1000 at rate 0.25`);
    const normal = random.normal([1000], 3, 0.1);
    const mean = (await normal.mean().data())[0]!;
    assert.ok(Math.abs(mean - 3) < 0.05, `mean ${mean}`);
    tf.dispose([mask, normal]);
  });
});
