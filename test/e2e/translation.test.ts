import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tf from '#tfjs';
import { probeBackend } from '../../src/backends/index.js';
import { loadCustomLayerModules } from '../../src/cli/custom-layer-modules.js';
import type { ConversionReport, LayerConversion } from '../../src/convert/conversion-report.js';
import { bundleGolden, loadBundle } from '../../src/keras/bundle.js';
import { toFloat64 } from '../../src/keras/packed-tensor.js';
import { CustomRiskLayer } from '../../src/layers/seed/custom-risk-layer.js';
import { SwishActivation } from '../../src/layers/seed/swish-activation.js';
import { TemporalWeighting } from '../../src/layers/seed/temporal-weighting.js';
import { modelDirectory } from '../../src/tfjs-io/model-directory.js';
import { cachedExport } from '../support/cached-export.js';
import { REPO_ROOT } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';
import { strictTypeErrors } from '../support/strict-type-check.js';

// Route 1 of issue 11 (docs/custom-layer-routes.md): custom layers whose TypeScript keras-bridge
// writes from their Python source. The seed's three layers, the re-trace fixtures, and
// fixtures/models/user_layers.py (layers written as users write them, by someone who did not write
// the translator) are exported by the real exporter, converted with no --custom-layers, and
// proven by parity.
const SEED = path.join(REPO_ROOT, 'fixtures', 'seed', 'seed_models.py');
const RETRACE = path.join(REPO_ROOT, 'fixtures', 'models', 'retrace_layers.py');
const USER = path.join(REPO_ROOT, 'fixtures', 'models', 'user_layers.py');
const GRAPH = path.join(REPO_ROOT, 'fixtures', 'models', 'graph_fallback_layers.py');

const bundleOf = (modelsFile: string, factory: string) => cachedExport({ modelsFile, factory, cache: 'translation', options: { seed: 0, batchSize: 2 } });

interface Case {
  modelsFile: string;
  factory: string;
  /** Custom classes that must convert by translation. */
  classes: string[];
  /** The model has a training mode that differs from inference (dropout, branches on `training`). */
  training?: boolean;
}

const CASES: Case[] = [
  { modelsFile: SEED, factory: 'swish_model', classes: ['SwishActivation'] },
  { modelsFile: SEED, factory: 'temporal_model', classes: ['TemporalWeighting'] },
  { modelsFile: SEED, factory: 'risk_model', classes: ['CustomRiskLayer'] },
  { modelsFile: RETRACE, factory: 'retraced_model', classes: ['ScaledProjection', 'GatedResidual', 'PairMixer', 'TrainingAwareNorm', 'TfMathGate', 'LearnedTemperature'], training: true },
  { modelsFile: USER, factory: 'dense_block_model', classes: ['FourierFeatures', 'ScaledDense', 'ClippedResidual', 'TemperatureSoftmax'] },
  { modelsFile: USER, factory: 'norm_gating_model', classes: ['RMSNorm', 'GatedLinearUnit', 'GeGLUFeedForward', 'EinsumAttentionPool'], training: true },
  { modelsFile: USER, factory: 'text_encoder_model', classes: ['TokenAndPositionEmbedding', 'MaskedScale', 'TransformerBlock', 'MaskedMeanPool'], training: true },
  { modelsFile: USER, factory: 'conv_sequence_model', classes: ['ConvStack', 'SequenceStatistics', 'EvenOddInterleave', 'MultiHeadProjection'] },
  { modelsFile: USER, factory: 'multi_input_model', classes: ['CrossNetworkLayer', 'BilinearInteraction', 'MixtureOfExperts', 'SplitHeadOutputs'] },
  { modelsFile: USER, factory: 'training_branch_model', classes: ['BatchCenter', 'StochasticDepth'], training: true },
  { modelsFile: USER, factory: 'shared_layer_model', classes: ['SqueezeExcite1D'] },
  // The loss does not depend on the input's values: tfjs has no gradient for it, Keras's is zero.
  { modelsFile: USER, factory: 'shape_only_model', classes: ['SinusoidalPositions'] },
  { modelsFile: GRAPH, factory: 'graph_fallback_model', classes: ['CumulativeMix', 'PairedReshape', 'BilinearGate', 'TrainingShift', 'NormalizedLeaky'], training: true },
];

function flatten(layers: LayerConversion[]): LayerConversion[] {
  return layers.flatMap((l) => [l, ...flatten(l.layers ?? [])]);
}

describe('custom layers translated from their Python source (route 1, no --custom-layers)', function () {
  this.timeout(900_000);
  let tmp: string;
  let backends: string[];
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-translation-'));
    backends = ['cpu', 'wasm'];
    if ((await probeBackend('tensorflow')).available) backends.push('tensorflow');
  });
  after(async () => rm(tmp, { recursive: true, force: true }));

  for (const { modelsFile, factory, classes, training } of CASES) {
    it(`${factory}: ${classes.join(', ')} are generated as TypeScript and pass parity on cpu, wasm, tensorflow`, async () => {
      const bundle = await bundleOf(modelsFile, factory);
      const out = path.join(tmp, factory);
      const converted = await runCli(['convert', bundle, out, '--json']);
      assert.equal(converted.exitCode, 0, converted.stdout + converted.stderr);
      const report = JSON.parse(converted.stdout) as ConversionReport;
      const translated = new Set(flatten(report.layers).filter((l) => l.mapping === 'translated').map((l) => l.kerasClass));
      assert.deepEqual([...translated].sort(), [...classes].sort(), 'the classes converted by translation');
      for (const c of classes) assert.ok(existsSync(path.join(out, 'custom-layers', `${c}.ts`)), `custom-layers/${c}.ts`);
      assert.ok(existsSync(path.join(out, 'custom-layers.js')));
      const parity = await runCli(['parity', bundle, '--backend', backends.join(',')]);
      assert.equal(parity.exitCode, 0, parity.stdout + parity.stderr);
      assert.match(parity.stdout, /layer-isolated gradients: \d+ tensors compared, all pass/);
      if (training) assert.match(parity.stdout, /training mode: \d+ tensors compared.*all pass/);
      assert.doesNotMatch(parity.stdout, /training mode: not compared/);
    });
  }

  it('the generated TypeScript type-checks under the project\'s strict settings', async () => {
    const files = CASES.flatMap(({ factory, classes }) => classes.map((c) => path.join(tmp, factory, 'custom-layers', `${c}.ts`))).filter(existsSync);
    assert.ok(files.length >= 30, `${files.length} generated files`);
    // As an app that installed keras-bridge sees it.
    const messages = strictTypeErrors(files, {
      baseUrl: REPO_ROOT,
      paths: { 'keras-bridge/runtime': ['src/runtime.ts'], '@tensorflow/tfjs': ['node_modules/@tensorflow/tfjs'], zod: ['node_modules/zod'] },
      types: [],
    });
    assert.deepEqual(messages, []);
  });

  it('the converted directory loads with stock tf.loadLayersModel once custom-layers.js is imported, and predicts what Keras did', async () => {
    const out = path.join(tmp, 'text_encoder_model');
    await loadCustomLayerModules([path.join(out, 'custom-layers.js')]);
    const bundle = await loadBundle(await bundleOf(USER, 'text_encoder_model'));
    await tf.setBackend('cpu');
    const model = await tf.loadLayersModel(modelDirectory(out));
    const input = bundle.manifest.goldens.tensors.find((t) => t.kind === 'input')!;
    const x = tf.tensor(Array.from(toFloat64(bundleGolden(bundle, input))), input.shape, 'int32');
    const y = model.predict(x) as tf.Tensor;
    const expected = toFloat64(bundleGolden(bundle, bundle.manifest.goldens.tensors.find((t) => t.kind === 'output')!));
    const got = await y.data();
    const worst = Math.max(...Array.from(got, (v, i) => Math.abs(v - expected[i]!)));
    // Parity's own float32 tolerance for this model is atol 5e-6 + rtol 1e-4 (docs/tolerances.md).
    assert.ok(worst < 1e-4, `max |tfjs - keras| = ${worst}`);
    tf.dispose([x, y]);
    model.dispose();
  });

  it("the seed's generated layers compute what the hand-written ones in src/layers/seed do, forward and backward", async () => {
    const generated = (await import(path.join(tmp, 'swish_model', 'custom-layers.js'))) as Record<string, new (args: object) => tf.layers.Layer>;
    const temporal = (await import(path.join(tmp, 'temporal_model', 'custom-layers.js'))) as Record<string, new (args: object) => tf.layers.Layer>;
    const risk = (await import(path.join(tmp, 'risk_model', 'custom-layers.js'))) as Record<string, new (args: object) => tf.layers.Layer>;
    await tf.setBackend('cpu');
    const x = tf.randomNormal([3, 10], 0, 1, 'float32', 7);
    const pairs: Array<[string, tf.layers.Layer, tf.layers.Layer]> = [
      ['SwishActivation', new generated['SwishActivation']!({ name: 'g_swish' }), new SwishActivation({ name: 'h_swish' })],
      ['TemporalWeighting', new temporal['TemporalWeighting']!({ name: 'g_temporal', units: 5 }), new TemporalWeighting({ name: 'h_temporal', units: 5 })],
      ['CustomRiskLayer', new risk['CustomRiskLayer']!({ name: 'g_risk' }), new CustomRiskLayer({ name: 'h_risk' })],
    ];
    for (const [name, ours, theirs] of pairs) {
      ours.apply(x);
      theirs.apply(x);
      theirs.setWeights(ours.getWeights());
      const run = (layer: tf.layers.Layer) => tf.tidy(() => tf.sum(tf.square(layer.apply(x) as tf.Tensor)));
      const [yOurs, yTheirs] = [ours.apply(x) as tf.Tensor, theirs.apply(x) as tf.Tensor];
      assert.deepEqual(yOurs.shape, yTheirs.shape, name);
      const gradOurs = tf.grad((input: tf.Tensor) => tf.sum(tf.square(ours.apply(input) as tf.Tensor)))(x);
      const gradTheirs = tf.grad((input: tf.Tensor) => tf.sum(tf.square(theirs.apply(input) as tf.Tensor)))(x);
      // Same tfjs ops in the same order: equal to float32 rounding of a reordered sum at most.
      assert.ok(tf.max(tf.abs(tf.sub(yOurs, yTheirs))).dataSync()[0]! <= 1e-6, `${name} forward`);
      assert.ok(tf.max(tf.abs(tf.sub(gradOurs, gradTheirs))).dataSync()[0]! <= 1e-5, `${name} backward`);
      void run;
      tf.dispose([yOurs, yTheirs, gradOurs, gradTheirs]);
    }
    x.dispose();
  });

  it('what cannot be translated is a gap quoting the Python line, and the layer falls to the next route or is reported', async () => {
    // A Python branch on a tensor's value: route 1 refuses, the graph fallback (autograph's tf.cond) takes it.
    const branch = await bundleOf(USER, 'tensor_branch_model');
    const manifest = (await loadBundle(branch)).manifest;
    const record = manifest.custom_layers.find((c) => c.class_name === 'SignDependentActivation')!.translation!;
    assert.equal(record.status, 'gaps');
    const gap = record.status === 'gaps' ? record.gaps[0]! : undefined;
    assert.equal(gap?.file, 'user_layers.py');
    assert.match(gap?.code ?? '', /if tf\.reduce_mean\(x\) > 0:/);
    assert.equal(readFileSync(path.join(REPO_ROOT, 'fixtures', 'models', 'user_layers.py'), 'utf8').split('\n')[gap!.line! - 1]!.trim(), gap!.code);
    // With route 1 alone, conversion refuses it, quoting the line.
    const only = await runCli(['convert', branch, path.join(tmp, 'branch-translate-only'), '--routes', 'translate']);
    assert.equal(only.exitCode, 2, only.stdout + only.stderr);
    assert.match(only.stderr, /SignDependentActivation/);
    assert.match(only.stderr, /user_layers\.py:\d+: .*Python `if` on a tensor's value/);
    // tf.linalg.svd: no route has it; the error lists the translation gap with the others.
    const svd = await runCli(['convert', await bundleOf(USER, 'svd_model'), path.join(tmp, 'svd')]);
    assert.equal(svd.exitCode, 2, svd.stdout + svd.stderr);
    assert.match(svd.stderr, /SVDWhitening/);
    assert.match(svd.stderr, /tf\.linalg\.svd .*has no entry in keras-bridge's mapping table/);
  });

  it('from a .keras file someone saved: export with --module, then convert writes every class and the custom activation (Dense(activation=scaled_tanh)), and parity passes', async () => {
    const bundle = path.join(tmp, 'from-keras-file');
    const exported = await runCli(['export', '--model', path.join('fixtures', 'keras', 'custom_layers.keras'), '--module', 'custom_layers', '--path', path.join('fixtures', 'models'), '--out', bundle]);
    assert.equal(exported.exitCode, 0, exported.stdout + exported.stderr);
    const out = path.join(tmp, 'from-keras-file-out');
    const converted = await runCli(['convert', bundle, out, '--json']);
    assert.equal(converted.exitCode, 0, converted.stdout + converted.stderr);
    const report = JSON.parse(converted.stdout) as ConversionReport;
    assert.deepEqual(
      report.layers.filter((l) => l.mapping === 'translated').map((l) => l.kerasClass).sort(),
      ['GainBlock', 'GainDense', 'GatedMix', 'RunningSum', 'TrainScale'],
    );
    assert.match(await readFile(path.join(out, 'custom-layers.js'), 'utf8'), /registerActivation\('fixtures>scaled_tanh', scaledTanh, \{ origin: 'translated' \}\)/);
    const parity = await runCli(['parity', bundle, '--backend', 'cpu,wasm']);
    assert.equal(parity.exitCode, 0, parity.stdout + parity.stderr);
  });

  it('convert of a .keras file (no Python) with unregistered classes says which commands write them, listing all', async () => {
    const file = path.join('fixtures', 'keras', 'custom_layers.keras');
    const result = await runCli(['convert', file, path.join(tmp, 'from-file')]);
    assert.equal(result.exitCode, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /custom layer classes have no TypeScript implementation registered/);
    assert.ok(result.stderr.includes(`  keras-bridge export --model ${file} --module custom_layers --out BUNDLE\n`), result.stderr);
    assert.ok(result.stderr.includes('  keras-bridge convert BUNDLE OUT_DIR      # or: keras-bridge scaffold BUNDLE --out src/my-layers\n'), result.stderr);
  });

  it('a hand-written class registered with --custom-layers wins over the generated one', async () => {
    const seedLayers = path.join(REPO_ROOT, 'dist', 'src', 'layers', 'seed', 'index.js');
    const converted = await runCli(['convert', await bundleOf(SEED, 'temporal_model'), path.join(tmp, 'temporal-hand'), '--custom-layers', seedLayers]);
    assert.equal(converted.exitCode, 0, converted.stdout + converted.stderr);
    assert.match(converted.stdout, /^  temporal_weighting: TemporalWeighting → registered TypeScript layer TemporalWeighting$/m);
    assert.ok(!existsSync(path.join(tmp, 'temporal-hand', 'custom-layers.js')));
  });

  it('a fault in generated code (the swish\'s sigmoid made a tanh) fails parity, naming the layer', async () => {
    const bundle = await bundleOf(SEED, 'swish_model');
    const out = path.join(tmp, 'swish-fault');
    assert.equal((await runCli(['convert', bundle, out])).exitCode, 0);
    const module = path.join(out, 'custom-layers.js');
    const { writeFile } = await import('node:fs/promises');
    const text = await readFile(module, 'utf8');
    assert.match(text, /tf\.sigmoid\(/);
    await writeFile(module, text.replace('tf.sigmoid(', 'tf.tanh('));
    const parity = await runCli(['parity', bundle, '--model-dir', out, '--backend', 'cpu', '--json', path.join(out, 'parity.json')]);
    assert.equal(parity.exitCode, 1, parity.stdout + parity.stderr);
    const run = JSON.parse(await readFile(path.join(out, 'parity.json'), 'utf8')) as { models: Array<{ backends: Array<{ firstDivergingLayer: string | null }> }> };
    assert.equal(run.models[0]!.backends[0]!.firstDivergingLayer, 'swish_activation');
  });
});
