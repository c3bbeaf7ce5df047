import assert from 'node:assert/strict';
import tf from '#tfjs';
import { useBackend } from '../../src/backends/index.js';
import { foldBatchNormalization, type ModelArtifactsData } from '../../src/convert/inference-rewrites/fold-batch-norm.js';
import type { TfjsTopology } from '../../src/convert/translate-model.js';

/** Deterministic values in [lo, hi), different for each seed. */
function pseudoRandom(size: number, seed: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: size }, (_, i) => lo + ((Math.sin(seed * 7919 + i * 12.9898) * 43758.5453) % 1 + 1) % 1 * (hi - lo));
}

/** Gives every weight of the model values far from its initializer's: BatchNormalization statistics that matter. */
function randomizeWeights(model: tf.LayersModel): void {
  let seed = 1;
  for (const layer of model.layers) {
    const values = layer.weights.map((w) => {
      const positive = /moving_variance|gamma/.test(w.name);
      const shape = w.shape as number[];
      return tf.tensor(pseudoRandom(shape.reduce((a, b) => a * b, 1), seed++, positive ? 0.5 : -0.5, positive ? 2 : 0.5), shape);
    });
    if (values.length > 0) layer.setWeights(values);
    tf.dispose(values);
  }
}

async function artifactsOf(model: tf.LayersModel): Promise<ModelArtifactsData> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => ((saved = artifacts), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  const data = saved!.weightData as ArrayBuffer;
  return { topology: saved!.modelTopology as unknown as TfjsTopology, weightSpecs: saved!.weightSpecs!, weightData: new Uint8Array(data) };
}

async function load(artifacts: ModelArtifactsData): Promise<tf.LayersModel> {
  const buffer = artifacts.weightData.slice().buffer;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: artifacts.topology as unknown as object, weightSpecs: artifacts.weightSpecs, weightData: buffer }));
}

/** Conv → BN → ReLU; depthwise → BN without centre → ReLU layer; a bias-less conv → BN feeding an Add; Dense → BN → ELU. */
function functionalModel(): tf.LayersModel {
  const input = tf.input({ shape: [9, 9, 3] });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c1' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'bn1', epsilon: 1e-3 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: 'relu1' }).apply(x) as tf.SymbolicTensor;
  let d = tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', name: 'dw' }).apply(x) as tf.SymbolicTensor;
  d = tf.layers.batchNormalization({ name: 'bn_dw', center: false, axis: 3 }).apply(d) as tf.SymbolicTensor;
  d = tf.layers.reLU({ name: 'relu_dw' }).apply(d) as tf.SymbolicTensor;
  const p = tf.layers.conv2d({ filters: 8, kernelSize: 1, useBias: false, name: 'project' }).apply(d) as tf.SymbolicTensor;
  const pn = tf.layers.batchNormalization({ name: 'bn_project', scale: false }).apply(p) as tf.SymbolicTensor;
  // Read twice: folded, but the following Activation is not its only reader.
  const shortcut = tf.layers.conv2d({ filters: 8, kernelSize: 1, name: 'shortcut' }).apply(x) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'add' }).apply([pn, shortcut]) as tf.SymbolicTensor;
  let y = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(sum) as tf.SymbolicTensor;
  y = tf.layers.dense({ units: 5, name: 'fc' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization({ name: 'bn_fc' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.activation({ activation: 'elu', name: 'elu_fc' }).apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: y });
}

describe('convert --fold-batch-norm: BatchNormalization folded into the layer before it (inference-rewrites/)', function () {
  before(async function () {
    await useBackend('cpu');
  });

  it('a functional model: every foldable BN and activation is gone, and predictions agree to float32 rounding', async function () {
    const model = functionalModel();
    randomizeWeights(model);
    const artifacts = await artifactsOf(model);
    const folded = foldBatchNormalization(artifacts);
    assert.deepEqual(folded.rewrites, [
      { kind: 'fold-batch-norm', removed: 'bn1', into: 'c1' },
      { kind: 'fuse-activation', removed: 'relu1', into: 'c1' },
      { kind: 'fold-batch-norm', removed: 'bn_dw', into: 'dw' },
      { kind: 'fuse-activation', removed: 'relu_dw', into: 'dw' },
      { kind: 'fold-batch-norm', removed: 'bn_project', into: 'project' },
      { kind: 'fold-batch-norm', removed: 'bn_fc', into: 'fc' },
      { kind: 'fuse-activation', removed: 'elu_fc', into: 'fc' },
    ]);
    const rewritten = await load(folded);
    assert.deepEqual(
      rewritten.layers.map((l) => l.name),
      model.layers.map((l) => l.name).filter((n) => !folded.rewrites.some((r) => r.removed === n)),
    );
    assert.equal(rewritten.getLayer('project').getWeights().length, 2, 'the bias-less conv got a bias');
    assert.ok(!folded.weightSpecs.some((s) => s.name.startsWith('bn')), 'no BatchNormalization weight is left');
    const x = tf.tensor(pseudoRandom(2 * 9 * 9 * 3, 99), [2, 9, 9, 3]);
    const before = model.predict(x) as tf.Tensor;
    const after = rewritten.predict(x) as tf.Tensor;
    const expected = before.dataSync();
    const worst = Array.from(after.dataSync()).reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i]!) / (1e-6 + Math.abs(expected[i]!))), 0);
    // Measured 1e-6 relative on this model: float32 rounding of a different order of products.
    assert.ok(worst < 1e-5, `folded predictions differ by ${worst} relative`);
    tf.dispose([x, before, after]);
    model.dispose();
    rewritten.dispose();
  });

  it('a Sequential model folds the same way', async function () {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 2, name: 'c' }),
        tf.layers.batchNormalization({ name: 'bn' }),
        tf.layers.activation({ activation: 'relu', name: 'r' }),
        tf.layers.flatten({ name: 'flat' }),
        tf.layers.dense({ units: 2, name: 'out' }),
      ],
    });
    randomizeWeights(model);
    const folded = foldBatchNormalization(await artifactsOf(model));
    assert.deepEqual(folded.rewrites.map((r) => r.removed), ['bn', 'r']);
    const rewritten = await load(folded);
    const x = tf.tensor(pseudoRandom(6 * 6 * 2, 5), [1, 6, 6, 2]);
    const [a, b] = [(model.predict(x) as tf.Tensor).dataSync(), (rewritten.predict(x) as tf.Tensor).dataSync()];
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= 1e-5 * (1 + Math.abs(v)), `${v} against ${b[i]}`));
  });

  it('leaves alone what it cannot fold: a BN on another axis, a BN after a non-linear layer, a layer read twice, a model output', async function () {
    const input = tf.input({ shape: [4, 4, 2] });
    const c1 = tf.layers.conv2d({ filters: 3, kernelSize: 1, name: 'c1' }).apply(input) as tf.SymbolicTensor;
    const axis1 = tf.layers.batchNormalization({ axis: 1, name: 'bn_axis1' }).apply(c1) as tf.SymbolicTensor;
    const c2 = tf.layers.conv2d({ filters: 3, kernelSize: 1, activation: 'relu', name: 'c2' }).apply(axis1) as tf.SymbolicTensor;
    const afterRelu = tf.layers.batchNormalization({ name: 'bn_after_relu' }).apply(c2) as tf.SymbolicTensor;
    const c3 = tf.layers.conv2d({ filters: 3, kernelSize: 1, name: 'c3' }).apply(afterRelu) as tf.SymbolicTensor;
    const twice = tf.layers.batchNormalization({ name: 'bn_twice' }).apply(c3) as tf.SymbolicTensor;
    const sum = tf.layers.add({ name: 'add' }).apply([twice, c3]) as tf.SymbolicTensor;
    const c4 = tf.layers.conv2d({ filters: 3, kernelSize: 1, name: 'c4' }).apply(sum) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: [c4, tf.layers.batchNormalization({ name: 'bn_out' }).apply(c4) as tf.SymbolicTensor] });
    const artifacts = await artifactsOf(model);
    const folded = foldBatchNormalization(artifacts);
    assert.deepEqual(folded.rewrites, []);
    assert.equal(folded.weightData, artifacts.weightData, 'nothing rewritten: the same artifacts');
  });
});
