import assert from 'node:assert/strict';
import { compareTensors } from '../../src/parity/compare-tensors.js';
import type { BackendParity, OptimizerParity, TensorParity, TrainingModeParity } from '../../src/parity/parity-result.js';
import { backendVerdict } from '../../src/parity/parity-verdict.js';
import { parityExitCode } from '../../src/cli/parity-command.js';

/** A one-element tensor comparison: 0 against Keras's 0 passes, 1 fails (atol 1e-6). */
function tensor(label: string, passed: boolean, kind: TensorParity['kind'] = 'layer_output', layer: string | null = 'dense'): TensorParity {
  return { kind, label, layer, source: 'keras', referenceError: null, float64Error: null, kernelVariantError: null, comparison: compareTensors([passed ? 0 : 1], [1], [0], [1], { atol: 1e-6, rtol: 0 }) };
}

/** A backend where every compared tensor of every mode passes; `parts` replaces some of it. */
function backend(parts: Partial<BackendParity> & { isolatedForward?: TensorParity[]; isolatedBackward?: TensorParity[]; layerGradientsUnavailable?: string } = {}): BackendParity {
  const { isolatedForward, isolatedBackward, layerGradientsUnavailable, ...rest } = parts;
  return {
    backend: 'cpu',
    // What the verdict reads is the tensors and what was not compared, never a saved outcome.
    outcome: 'pass',
    gradientsNotCompared: null,
    firstDivergingLayer: null,
    firstDivergingLayerBackward: null,
    seconds: 0,
    tensors: [tensor('output 0 (dense)', true, 'output'), tensor('layer dense', true), tensor('grad dense/kernel', true, 'grad_weight')],
    isolated: {
      tensors: isolatedForward ?? [tensor('layer dense (isolated)', true)],
      failingLayers: [],
      skipped: [],
      gradients: { tensors: isolatedBackward ?? [tensor('grad dense/kernel (isolated)', true, 'grad_weight')], failingLayers: [], skipped: [], unavailable: layerGradientsUnavailable ?? null },
    },
    ...rest,
  };
}

/** A training-mode section: `parts` over one with nothing compared and nothing localized. */
function trainingMode(parts: Partial<TrainingModeParity>): TrainingModeParity {
  return { passed: true, tensors: [], randomDraws: 0, notCompared: null, gradientsNotCompared: null, firstDivergingLayer: null, firstDivergingLayerBackward: null, ...parts };
}

function optimizer(fields: Partial<OptimizerParity>): OptimizerParity {
  return {
    optimizer: 'sgd',
    implementation: 'tfjs tf.train.sgd',
    counted: true,
    note: null,
    passed: true,
    tensors: [tensor('sgd ×3 (tfjs tf.train.sgd): change of dense/kernel', true, 'trained_weight')],
    losses: { keras: [1], tfjs: [1] },
    notCompared: null,
    ...fields,
  };
}

const summary = (b: BackendParity) => {
  const v = backendVerdict(b);
  return { outcome: v.outcome, failures: v.failures.map((f) => `${f.mode}: ${f.tensor.label}`), notCompared: v.notCompared.map((n) => `${n.what}${n.incomplete ? ' (incomplete)' : ''}`) };
};

describe('the parity verdict: one definition of what failed, and the outcome', () => {
  it('passes when every compared tensor of every mode passes', () => {
    assert.deepEqual(summary(backend()), { outcome: 'pass', failures: [], notCompared: [] });
  });

  it('fails on an end-to-end tensor', () => {
    const b = backend({ tensors: [tensor('output 0 (dense)', true, 'output'), tensor('layer dense', false)] });
    assert.deepEqual(summary(b), { outcome: 'fail', failures: ['end-to-end: layer dense'], notCompared: [] });
  });

  it('fails on a layer run alone, forward, while everything end to end passes', () => {
    const b = backend({ isolatedForward: [tensor('layer dense (isolated)', false)] });
    assert.deepEqual(summary(b), { outcome: 'fail', failures: ['layer-alone-forward: layer dense (isolated)'], notCompared: [] });
  });

  it("fails on a layer's backward pass alone", () => {
    const b = backend({ isolatedBackward: [tensor('grad into layer dense from input (isolated)', false, 'grad_input')] });
    assert.deepEqual(summary(b), { outcome: 'fail', failures: ['layer-alone-backward: grad into layer dense from input (isolated)'], notCompared: [] });
  });

  it('fails on a training-mode tensor, state after the pass included', () => {
    const training = trainingMode({ passed: false, tensors: [tensor('training: layer dense', true), tensor('training: bn/moving_mean after the pass', false, 'weight_after_pass', 'bn')], randomDraws: 1, notCompared: null });
    assert.deepEqual(summary(backend({ training })), { outcome: 'fail', failures: ['training: training: bn/moving_mean after the pass'], notCompared: [] });
  });

  it("fails on a counted optimizer's weight change after training, and never on a not-counted one", () => {
    const wrong = [tensor('change of dense/kernel', false, 'grad_weight')];
    const counted = { steps: 3, passed: false, optimizers: [optimizer({ passed: false, tensors: wrong })], notCompared: null };
    assert.deepEqual(summary(backend({ afterTraining: counted })), { outcome: 'fail', failures: ['after-training: change of dense/kernel'], notCompared: [] });
    const informational = { steps: 3, passed: true, optimizers: [optimizer({ counted: false, passed: false, tensors: wrong, implementation: 'tfjs tf.train.adam' })], notCompared: null };
    const verdict = backendVerdict(backend({ afterTraining: informational }));
    assert.equal(verdict.outcome, 'pass');
    assert.deepEqual(
      verdict.compared.filter((c) => c.mode === 'after-training').map((c) => c.counted),
      [false],
      'still compared and shown, not counted',
    );
  });

  it('is incomplete when the end-to-end or the training-mode gradients were not compared, and exits 3', () => {
    const reason = "tfjs cannot differentiate conv2D with dilation rates greater than 1 (layer 'dilated_conv')";
    const noGradients = backend({ gradientsNotCompared: reason });
    assert.deepEqual(summary(noGradients), { outcome: 'incomplete', failures: [], notCompared: ['gradients (incomplete)'] });
    const training = trainingMode({ passed: true, tensors: [tensor('training: layer dense', true)], randomDraws: 1, notCompared: null, gradientsNotCompared: reason });
    assert.deepEqual(summary(backend({ training })), { outcome: 'incomplete', failures: [], notCompared: ['training gradients (incomplete)'] });
    const run = { schema: 'keras-bridge-parity' as const, schemaVersion: 2 as const, outcome: backendVerdict(noGradients).outcome, models: [], unavailableBackends: [] };
    assert.equal(parityExitCode(run), 3);
  });

  it('a failure outranks gradients not compared: fail, exit 1', () => {
    const b = backend({ gradientsNotCompared: 'tfjs cannot differentiate TopK', isolatedForward: [tensor('layer dense (isolated)', false)] });
    assert.equal(backendVerdict(b).outcome, 'fail');
    assert.equal(parityExitCode({ schema: 'keras-bridge-parity', schemaVersion: 2, outcome: 'fail', models: [], unavailableBackends: [] }), 1);
  });

  it('training mode, an optimizer or layer-isolated gradients not compared are reported and keep the pass (exit 0)', () => {
    const b = backend({
      training: trainingMode({ passed: true, tensors: [], randomDraws: 0, notCompared: "layer 'noise': 1 random draw(s) not replayed" }),
      afterTraining: { steps: 3, passed: true, optimizers: [optimizer({ tensors: [], notCompared: 'tfjs has no amsgrad' })], notCompared: null },
      layerGradientsUnavailable: 'the bundle has no grad_layer_output goldens',
    });
    assert.deepEqual(summary(b), { outcome: 'pass', failures: [], notCompared: ['layer-alone gradients', 'training', 'optimizer']/* in the registered modes' order */ });
    assert.equal(backendVerdict(b).notCompared.find((n) => n.what === 'optimizer')?.optimizer, 'sgd with tfjs tf.train.sgd');
    const noRuns = backend({ afterTraining: { steps: 3, passed: true, optimizers: [], notCompared: 'the exporter recorded no training runs' } });
    assert.deepEqual(summary(noRuns), { outcome: 'pass', failures: [], notCompared: ['after training'] });
  });

  it('lists failures in every mode at once, in report order', () => {
    const b = backend({
      tensors: [tensor('layer dense', false)],
      isolatedForward: [tensor('layer dense (isolated)', false)],
      isolatedBackward: [tensor('grad dense/kernel (isolated)', false, 'grad_weight')],
      training: trainingMode({ passed: false, tensors: [tensor('training: layer dense', false)], randomDraws: 0, notCompared: null }),
      afterTraining: { steps: 3, passed: false, optimizers: [optimizer({ passed: false, tensors: [tensor('change of dense/kernel', false, 'grad_weight')] })], notCompared: null },
    });
    assert.deepEqual(
      backendVerdict(b).failures.map((f) => f.mode),
      ['end-to-end', 'layer-alone-forward', 'layer-alone-backward', 'training', 'after-training'],
    );
  });
});
