import assert from 'node:assert/strict';
import { AssertionError } from 'node:assert';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { convertKerasModel } from '../../src/convert/convert-model.js';
import { weightsFromBundle } from '../../src/convert/weight-source.js';
import { loadBundle } from '../../src/keras/bundle.js';
import '../../src/layers/seed/index.js';
import { checkBundleParity } from '../../src/parity/check-parity.js';
import type { BackendParity, ParityRun } from '../../src/parity/parity-result.js';
import { backendVerdict } from '../../src/parity/parity-verdict.js';
import { runParity } from '../../src/parity/run-parity.js';
import { formatParityTable } from '../../src/report/parity-table.js';
import { writeModelDirectory } from '../../src/tfjs-io/model-directory.js';
import { expectParity } from '../../src/testing/index.js';
import { changedMomentum, changedRate, replacedClass } from '../support/fault-injection.js';
import { fixtureBundle, SEED_BUNDLES } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';
import { registerTrainingNoise } from '../support/training-noise.js';
import { registerUnreplayableTrainingNoise } from '../support/unreplayable-training-noise.js';
import { registerUnscaledTrainingNoise } from '../support/wrong-training-noise.js';
import { UnfrozenBatchNormalization } from '../support/unfrozen-batch-normalization.js';

// fixtures/bundles/training (fixtures/models/training_model.py): Dense, BatchNormalization,
// Dropout(0.3), the custom TrainingNoise (Gaussian noise only in training) and two Dense, exported
// with its training-mode random draws and with 3 SGD and 3 Adam steps.
const TRAINING = fixtureBundle('training');

function failing(b: BackendParity): string[] {
  return [...b.tensors, ...(b.training?.tensors ?? [])].filter((t) => !t.comparison.passed).map((t) => `${b.backend} ${t.label}`);
}

describe('training-mode parity: random draws replayed from Keras', function () {
  this.timeout(180_000);
  let tmp: string;
  before(async () => {
    registerTrainingNoise();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-training-'));
  });
  after(async () => {
    registerTrainingNoise();
    await rm(tmp, { recursive: true, force: true });
  });

  it('Dropout, BatchNormalization and a custom layer that reads training match Keras in both modes (cpu, wasm)', async () => {
    const result = await checkBundleParity(TRAINING, { backends: ['cpu', 'wasm'] });
    for (const b of result.backends) {
      assert.deepEqual(failing(b), []);
      const training = b.training!;
      assert.equal(training.notCompared, null);
      assert.equal(training.randomDraws, 2);
      assert.deepEqual([...new Set(training.tensors.map((t) => t.kind))].sort(), ['grad_input', 'grad_weight', 'layer_output', 'output', 'weight_after_pass']);
      const states = training.tensors.filter((t) => t.kind === 'weight_after_pass').map((t) => t.label);
      // Every non-trainable weight: the frozen layer's gamma and beta too, and its moving statistics, which must not move.
      const stats = (layer: string, names: string[]) => names.map((n) => `training: ${layer}/${n} after the pass`);
      assert.deepEqual(states, [...stats('batch_norm', ['moving_mean', 'moving_variance']), ...stats('frozen_norm', ['gamma', 'beta', 'moving_mean', 'moving_variance'])]);
    }
    assert.equal(result.outcome, 'pass');
  });

  it('a Dropout rate changed in the converted model fails training mode from that layer on, while inference still passes', async () => {
    const bundle = await loadBundle(TRAINING);
    const converted = await convertKerasModel(bundle.modelConfig, weightsFromBundle(bundle), 'training');
    const modelDir = path.join(tmp, 'wrong-rate');
    await writeModelDirectory(modelDir, changedRate('dropout', 0.5)(converted));
    const result = await checkBundleParity({ bundleDir: bundle.dir, modelDir }, { backends: ['cpu'] });
    const b = result.backends[0]!;
    assert.equal(result.outcome, 'fail');
    assert.deepEqual(b.tensors.filter((t) => !t.comparison.passed), [], 'at inference Dropout is the identity whatever its rate');
    const layerOutputs = b.training!.tensors.filter((t) => t.kind === 'layer_output');
    assert.deepEqual(
      layerOutputs.filter((t) => !t.comparison.passed).map((t) => t.layer),
      ['dropout', 'training_noise', 'dense_mid', 'frozen_norm', 'head'],
    );
    assert.match(formatParityTable({ schema: 'keras-bridge-parity', schemaVersion: 2, outcome: 'fail', models: [result], unavailableBackends: [] }, false), /training on cpu, training mode: out of tolerance: output 0 \(head\), layer dropout, layer training_noise/);
    // Localized as inference would be: the Dropout is where training mode parts from Keras.
    assert.equal(b.firstDivergingLayer, null);
    assert.equal(b.training!.firstDivergingLayer, 'dropout');
  });

  it("a batch normalization that ignores being frozen (tfjs-layers' own, without keras-bridge's runtime) is caught there, moving statistics included; with the runtime, tfjs-layers' own class computes as Keras", async () => {
    const bundle = await loadBundle(TRAINING);
    const converted = await convertKerasModel(bundle.modelConfig, weightsFromBundle(bundle), 'training');
    assert.ok(converted.report.layers.some((l) => l.name === 'frozen_norm' && l.tfjsClass === 'KerasBatchNormalization'));
    const failedWith = async (className: string) => {
      const modelDir = path.join(tmp, className);
      await writeModelDirectory(modelDir, replacedClass('frozen_norm', className)(converted));
      const result = await checkBundleParity({ bundleDir: bundle.dir, modelDir }, { backends: ['cpu'] });
      return result.backends[0]!.training!.tensors.filter((t) => !t.comparison.passed).map((t) => t.label);
    };
    const failed = await failedWith(UnfrozenBatchNormalization.className);
    assert.ok(failed.includes('training: layer frozen_norm'), failed.join(', '));
    assert.ok(failed.includes('training: frozen_norm/moving_mean after the pass'), failed.join(', '));
    assert.ok(!failed.includes('training: layer dense_mid'), 'layers before it still match');
    // src/layers/fixes/batch-normalization-training.ts: a frozen layer as at inference, as Keras 3.
    assert.deepEqual(await failedWith('BatchNormalization'), []);
  });

  it('a custom layer that draws with tf.random instead of keras-bridge\'s random is reported as not compared, naming it', async () => {
    registerUnreplayableTrainingNoise();
    try {
      const result = await checkBundleParity(TRAINING, { backends: ['cpu'] });
      const training = result.backends[0]!.training!;
      assert.deepEqual(training.tensors, []);
      assert.match(training.notCompared!, /layer 'training_noise': 1 random draw\(s\) \(normal\) not replayed: its tfjs class TrainingNoise has no training replayer and did not draw through keras-bridge's random/);
      const table = formatParityTable({ schema: 'keras-bridge-parity', schemaVersion: 2, outcome: result.outcome, models: [result], unavailableBackends: [] }, false);
      assert.match(table, /training on cpu, training mode: not compared: layer 'training_noise'/);
    } finally {
      registerTrainingNoise();
    }
  });

  it('a bundle without the new sections (format 1 as before) still checks, with neither section in the result', async () => {
    const dir = path.join(tmp, 'plain');
    await cp(TRAINING, dir, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    delete manifest.goldens.training;
    delete manifest.goldens.after_training;
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    const result = await checkBundleParity(dir, { backends: ['cpu'] });
    assert.equal(result.outcome, 'pass');
    assert.equal(result.backends[0]!.training, undefined);
    assert.equal(result.backends[0]!.afterTraining, undefined);
  });
});

describe('training-mode faults are localized: the first diverging layer in training mode', function () {
  this.timeout(300_000);
  let tmp: string;
  before(async () => {
    registerTrainingNoise();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-training-fault-'));
  });
  after(async () => {
    registerTrainingNoise();
    await rm(tmp, { recursive: true, force: true });
  });

  const trainingDivergence = (backend: string) => `training on ${backend}, training mode: first diverging layer is 'training_noise'`;

  it("a custom layer whose training=True branch ignores stddev: inference passes, training mode diverges at 'training_noise' in the table, JSON, JUnit and HTML (cpu, wasm)", async () => {
    const [json, junit, html] = ['parity.json', 'parity.xml', 'parity.html'].map((f) => path.join(tmp, f)) as [string, string, string];
    const r = await runCli(['parity', TRAINING, '--backend', 'cpu,wasm', '--custom-layers', 'dist/test/support/wrong-training-noise.js', '--json', json, '--junit', junit, '--html', html]);
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    const run = JSON.parse(await readFile(json, 'utf8')) as ParityRun;
    const backends = run.models[0]!.backends;
    assert.deepEqual(backends.map((b) => b.backend), ['cpu', 'wasm']);
    for (const b of backends) {
      // Inference, end to end and each layer alone (forward and backward), is right: the fault is only in the training branch.
      assert.equal(b.firstDivergingLayer, null, b.backend);
      assert.equal(b.firstDivergingLayerBackward, null, b.backend);
      const verdict = backendVerdict(b);
      assert.ok(verdict.failures.length > 0, b.backend);
      assert.deepEqual([...new Set(verdict.failures.map((f) => f.mode))], ['training'], b.backend);
      assert.equal(b.training!.firstDivergingLayer, 'training_noise', b.backend);
      // The exporter records no training-mode output gradients, which the backward rule needs.
      assert.equal(b.training!.firstDivergingLayerBackward, null, b.backend);
      const failingOutputs = b.training!.tensors.filter((t) => t.kind === 'layer_output' && !t.comparison.passed).map((t) => t.layer);
      assert.deepEqual(failingOutputs, ['training_noise', 'dense_mid', 'frozen_norm', 'head'], b.backend);
      assert.match(r.stdout, new RegExp(`${trainingDivergence(b.backend)} \\(its output or its state after the pass out of tolerance while its inputs were within it\\)`));
      assert.match(r.stdout, new RegExp(`training › training: layer training_noise on ${b.backend}: \\d+ / \\d+ elements .* \\(training mode, layer training_noise\\)`));
    }
    assert.doesNotMatch(r.stdout, /training on (cpu|wasm): first diverging layer/, 'no inference divergence is claimed');
    // JUnit: the training-mode case fails with the localized line; every inference case passes.
    const xml = await readFile(junit, 'utf8');
    assert.match(xml, /name="cpu › training mode: outputs, layer outputs, weights after the pass \(\d+ tensors\)" time="[\d.]+">\s*<failure[^>]*>training on cpu, training mode: first diverging layer is &apos;training_noise&apos;/);
    assert.match(xml, /name="wasm › training mode: outputs, layer outputs, weights after the pass \(\d+ tensors\)" time="[\d.]+">\s*<failure/);
    for (const group of ['outputs', 'layer outputs', 'layer outputs, each layer alone', 'backward pass, each layer alone', 'gradients wrt weights']) {
      assert.match(xml, new RegExp(`name="cpu › ${group} \\(\\d+ tensors\\)" time="[\\d.]+"/>`), group);
    }
    // HTML: the sentence, and the training-mode divergence marked on the chart.
    const page = await readFile(html, 'utf8');
    for (const backend of ['cpu', 'wasm']) assert.ok(page.includes(`<li>${trainingDivergence(backend)}`), backend);
    assert.equal((page.match(/id="first-divergence-training">training mode diverges: training_noise</g) ?? []).length, 2);
    assert.doesNotMatch(page, /id="first-divergence"/);
  });

  it("expectParity's message names training mode's first diverging layer and lists each failure with its mode (cpu, wasm)", async () => {
    registerUnscaledTrainingNoise();
    try {
      await assert.rejects(expectParity(TRAINING, { backends: ['cpu', 'wasm'] }), (e: unknown) => {
        assert.ok(e instanceof AssertionError);
        for (const backend of ['cpu', 'wasm']) {
          assert.ok(e.message.includes(trainingDivergence(backend)), e.message);
          assert.match(e.message, new RegExp(`training › training: layer training_noise on ${backend}: .* worst at index .* would have passed .* \\(training mode, layer training_noise\\)`));
        }
        assert.match(e.message, /^keras-bridge parity: [1-9]\d* tensors of training out of tolerance/);
        return true;
      });
    } finally {
      registerTrainingNoise();
    }
  });

  it("a BatchNormalization momentum changed in the converted model: outputs stay right, its moving statistics after the pass do not, and it is named (cpu, wasm)", async () => {
    const bundle = await loadBundle(TRAINING);
    const converted = await convertKerasModel(bundle.modelConfig, weightsFromBundle(bundle), 'training');
    const modelDir = path.join(tmp, 'wrong-momentum');
    await writeModelDirectory(modelDir, changedMomentum('batch_norm', 0.5)(converted));
    const result = await checkBundleParity({ bundleDir: bundle.dir, modelDir }, { backends: ['cpu', 'wasm'] });
    assert.equal(result.outcome, 'fail');
    for (const b of result.backends) {
      const failures = backendVerdict(b).failures.map((f) => `${f.mode}: ${f.tensor.label}`);
      assert.deepEqual(failures, ['training: training: batch_norm/moving_mean after the pass', 'training: training: batch_norm/moving_variance after the pass'], b.backend);
      assert.equal(b.firstDivergingLayer, null, b.backend);
      assert.equal(b.training!.firstDivergingLayer, 'batch_norm', b.backend);
    }
  });
});

describe('parity after training: weights after 3 SGD and 3 Adam steps', function () {
  this.timeout(180_000);
  let tmp: string;
  before(async () => {
    registerTrainingNoise();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-after-training-'));
  });
  after(async () => rm(tmp, { recursive: true, force: true }));

  for (const name of [...SEED_BUNDLES, 'two_branch', 'deep', 'training']) {
    it(`${name}: tf.train.sgd and keras-bridge's KerasAdam move every trainable weight as Keras's SGD and Adam do (cpu, wasm)`, async () => {
      const result = await checkBundleParity(fixtureBundle(name), { backends: ['cpu', 'wasm'] });
      for (const b of result.backends) {
        const after = b.afterTraining!;
        assert.equal(after.steps, 3);
        const counted = after.optimizers.filter((o) => o.counted);
        assert.deepEqual(counted.map((o) => `${o.optimizer}: ${o.implementation}`), ['sgd: tfjs tf.train.sgd', 'adam: keras-bridge KerasAdam']);
        for (const o of counted) {
          assert.deepEqual(o.tensors.filter((t) => !t.comparison.passed).map((t) => t.label), [], `${name} ${b.backend}`);
          assert.equal(o.tensors.length, (await loadBundle(fixtureBundle(name))).manifest.weights.filter((w) => w.trainable).length);
        }
        assert.equal(after.passed, true);
      }
      assert.equal(result.outcome, 'pass');
    });
  }

  it("tfjs's stock tf.train.adam is reported and not counted: on deep its weight changes are off by more than Keras's changes themselves", async () => {
    const result = await checkBundleParity(fixtureBundle('deep'), { backends: ['cpu'] });
    const stock = result.backends[0]!.afterTraining!.optimizers.find((o) => o.implementation === 'tfjs tf.train.adam')!;
    assert.equal(stock.counted, false);
    assert.equal(stock.passed, false);
    const worst = Math.max(...stock.tensors.map((t) => t.comparison.maxRelError));
    assert.ok(worst > 0.5, `worst relative error of the weight changes: ${worst}`);
    assert.equal(result.outcome, 'pass', 'an informational difference does not fail the run');
  });

  it('a learning rate 1% off is caught: that optimizer fails and the run fails', async () => {
    const dir = path.join(tmp, 'lr');
    await cp(fixtureBundle('temporal'), dir, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    const sgd = manifest.goldens.after_training.runs.find((r: { optimizer: string }) => r.optimizer === 'sgd');
    sgd.config.learning_rate *= 1.01;
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    const result = await checkBundleParity(dir, { backends: ['cpu'] });
    const after = result.backends[0]!.afterTraining!;
    assert.equal(result.outcome, 'fail');
    assert.deepEqual(after.optimizers.filter((o) => !o.passed).map((o) => o.implementation), ['tfjs tf.train.sgd']);
  });

  it('the terminal report and JUnit list training mode and each optimizer; the stock Adam is a skipped case with its reason', async () => {
    const junit = path.join(tmp, 'parity.xml');
    const r = await runCli(['parity', TRAINING, '--backend', 'cpu', '--custom-layers', 'dist/test/support/training-noise.js', '--junit', junit]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /training on cpu, training mode: 24 tensors compared \(2 random draws replayed from Keras\), all pass/);
    assert.match(r.stdout, /training on cpu, after 3 optimizer steps: adam with keras-bridge KerasAdam: all weights within tolerance/);
    assert.match(r.stdout, /training\s+adam ×3 \(keras-bridge KerasAdam\): change of dense_in\/kernel\s+cpu/);
    const xml = await readFile(junit, 'utf8');
    assert.match(xml, /name="cpu › training mode: gradients \(9 tensors\)"/);
    assert.match(xml, /name="cpu › after 3 sgd steps, tfjs tf.train.sgd: change of each trainable weight \(8 tensors\)"/);
    assert.match(xml, /name="cpu › after 3 adam steps, tfjs tf.train.adam \(not counted\)"><skipped message="informational: tfjs applies epsilon after bias correction/);
  });
});

describe('training-mode parity and parity after training in headless Chromium', function () {
  this.timeout(180_000);

  it('chromium-cpu and chromium-wasm replay the draws in the page and train with the same optimizers there', async () => {
    registerTrainingNoise();
    const run = await runParity([TRAINING], {
      backends: ['chromium-cpu', 'chromium-wasm'],
      requireAllBackends: true,
      customLayerModules: ['dist/test/support/training-noise.js'],
    });
    for (const b of run.models[0]!.backends) {
      assert.deepEqual(failing(b), []);
      assert.equal(b.training!.randomDraws, 2);
      assert.equal(b.training!.notCompared, null);
      assert.deepEqual(b.afterTraining!.optimizers.map((o) => [o.implementation, o.passed || !o.counted]), [
        ['tfjs tf.train.sgd', true],
        ['keras-bridge KerasAdam', true],
        ['tfjs tf.train.adam', true],
      ]);
    }
    assert.equal(run.outcome, 'pass');
  });
});
