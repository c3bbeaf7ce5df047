import assert from 'node:assert/strict';
import tf from '#tfjs';
import { convertKerasModel, toModelArtifacts } from '../../src/convert/convert-model.js';
import { constraintWarning } from '../../src/convert/weight-constraints.js';
import { weightsFromBundle } from '../../src/convert/weight-source.js';
import { loadBundle } from '../../src/keras/bundle.js';
import { checkBundleParity } from '../../src/parity/check-parity.js';
import { formatConversionReport } from '../../src/report/conversion-table.js';
import { formatParityTable } from '../../src/report/parity-table.js';
import { fixtureBundle } from '../support/paths.js';

/** A custom layer whose build() adds a NonNeg weight, as Python's add_weight(constraint=NonNeg()). */
class Gain extends tf.layers.Layer {
  static readonly className = 'GainForConstraintTest';
  override build(shape: tf.Shape | tf.Shape[]): void {
    this.addWeight('gain', [(shape as tf.Shape).at(-1)!], 'float32', tf.initializers.ones(), undefined, true, tf.constraints.nonNeg());
    this.built = true;
  }
}

// fixtures/bundles/constrained (fixtures/models/constrained_model.py): Keras's untrained weights,
// 'non_neg' (glorot_uniform kernel, NonNeg) and 'max_norm' (ones kernel, MaxNorm(1)) break their
// constraints; 'kept' (ones kernel, NonNeg) does not.
describe('weights that break their own constraint', () => {
  it('are reported at conversion with layer, weight, constraint and the largest change, which is what tfjs loads', async () => {
    const bundle = await loadBundle(fixtureBundle('constrained'));
    const weights = weightsFromBundle(bundle);
    const converted = await convertKerasModel(bundle.modelConfig, weights, 'constrained/model.keras.json');
    const warnings = converted.report.constraintWarnings;
    assert.deepEqual(warnings.map((w) => [w.layer, w.weight, w.constraint]), [
      ['non_neg', 'non_neg/kernel', 'NonNeg'],
      ['max_norm', 'max_norm/kernel', 'MaxNorm {maxValue: 1, axis: 0}'],
    ]);
    const kernel = new Float32Array(Uint8Array.prototype.slice.call(weights.find((w) => w.path === 'non_neg/kernel')!.data.bytes).buffer);
    const negatives = kernel.filter((v) => v < 0);
    assert.equal(warnings[0]!.changedElements, negatives.length);
    assert.equal(warnings[0]!.maxChange, Math.max(...negatives.map(Math.abs)));
    // Each column of ones [4, 4] has norm 2; MaxNorm(1) halves it.
    assert.deepEqual([warnings[1]!.maxChange, warnings[1]!.changedElements, warnings[1]!.elements], [0.5, 16, 16]);

    // What the warning says tfjs does: the loaded kernel is the constrained one.
    const model = await tf.loadLayersModel(tf.io.fromMemory(toModelArtifacts(converted)));
    const loaded = model.getLayer('non_neg').getWeights()[0]!.dataSync();
    assert.deepEqual(Array.from(loaded), Array.from(kernel, (v) => Math.max(v, 0)));
    model.dispose();

    const table = formatConversionReport(converted.report);
    assert.match(
      table,
      /^ {2}warning: layer 'non_neg', weight 'non_neg\/kernel': its Keras value breaks its constraint NonNeg \(tfjs applies it on load, Keras only after optimizer steps\), which changes \d+ of 12 elements by up to [\d.]+: tfjs will load the constrained value; parity will show the difference; train or fix the weights in Keras, or drop the constraint\.$/m,
    );
  });

  it('are repeated in the parity report, next to the failures they cause', async () => {
    const result = await checkBundleParity(fixtureBundle('constrained'), { backends: ['cpu'] });
    assert.equal(result.outcome, 'fail');
    assert.deepEqual(
      result.conversionWarnings!.map((w) => w.split(':')[0]),
      ["layer 'non_neg', weight 'non_neg/kernel'", "layer 'max_norm', weight 'max_norm/kernel'"],
    );
    const table = formatParityTable({ schema: 'keras-bridge-parity', schemaVersion: 2, outcome: 'fail', models: [result], unavailableBackends: [] }, false);
    assert.match(table, /^constrained: conversion warning: layer 'non_neg', weight 'non_neg\/kernel': its Keras value breaks its constraint NonNeg/m);
    assert.match(table, /^constrained on cpu: first diverging layer is 'non_neg'/m);
  });

  it("checks a custom layer's own weight constraint (add_weight's, as its TypeScript twin declares it)", () => {
    const layer = new Gain({ name: 'gain' });
    layer.build([null, 4]);
    const [tfjs] = layer.weights;
    const check = (values: number[]) => constraintWarning({ layer: 'gain', weight: 'gain/gain', constraint: tfjs!.constraint!, shape: [4], values: new Float32Array(values) });
    assert.equal(check([1, 0, 2, 3]), undefined);
    const warning = check([1, -0.25, 2, -3e-7]);
    // -3e-7 is within float32's tolerance of 0: one element counts, the largest change is 0.25.
    assert.deepEqual([warning!.changedElements, warning!.maxChange], [1, 0.25]);
    tfjs!.dispose();
  });
});
