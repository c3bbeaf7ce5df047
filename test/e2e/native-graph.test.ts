import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tf from '#tfjs';
import { probeBackend, useBackend } from '../../src/backends/index.js';
import { loadBundle } from '../../src/keras/bundle.js';
import { bundleWeightTensors, loadNativeGraph } from '../../src/native/native-graph.js';
import { goldenInputs } from '../../src/parity/evaluate-model.js';
import { cachedExport } from '../support/cached-export.js';
import { REPO_ROOT } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

const SEED_MODELS = path.join(REPO_ROOT, 'fixtures', 'seed', 'seed_models.py');
const SEED = ['--custom-layers', 'keras-bridge/layers/seed'];

interface SavedRun {
  outcome: string;
  models: Array<{ backends: Array<{ backend: string; outcome: string; modes?: Record<string, { tensors: Array<{ label: string; comparison: { passed: boolean } }>; notCompared: string | null }> }> }>;
}

// export --saved-model, then parity's native-graph mode (docs/native-graph.md): the bundle's
// SavedModel run by TensorFlow's native runtime through tfjs-node, its outputs against Keras's goldens.
describe('the bundle as one native graph (export --saved-model)', function () {
  this.timeout(600_000);
  let tmp: string;
  const bundles: Record<string, string> = {};
  before(async function () {
    if (!(await probeBackend('tensorflow')).available) this.skip();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-native-graph-'));
    for (const factory of ['swish_model', 'temporal_model', 'risk_model']) {
      bundles[factory] = await cachedExport({ modelsFile: SEED_MODELS, factory, cache: 'native-graph', options: { seed: 0, batchSize: 2, savedModel: true } });
    }
  });
  after(async () => tmp && rm(tmp, { recursive: true, force: true }));

  async function parity(bundle: string, backend: string): Promise<SavedRun> {
    const json = path.join(tmp, `${path.basename(bundle)}-${backend}.json`);
    const r = await runCli(['parity', bundle, '--backend', backend, '--json', json, ...SEED]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    return JSON.parse(await readFile(json, 'utf8')) as SavedRun;
  }

  for (const factory of ['swish_model', 'temporal_model']) {
    it(`${factory}: on tensorflow, the SavedModel's outputs match Keras's within the end-to-end tolerance, reported as their own section`, async () => {
      const run = await parity(bundles[factory]!, 'tensorflow');
      const section = run.models[0]!.backends[0]!.modes?.['native-graph'];
      assert.ok(section, 'a native-graph section');
      assert.equal(section.notCompared, null);
      assert.deepEqual(section.tensors.map((t) => [t.label.startsWith('native graph output 0'), t.comparison.passed]), [[true, true]]);
    });

    it(`${factory}: on tensorflow, the gradients endpoint's input and weight gradients match Keras's goldens, reported as their own section`, async () => {
      const run = await parity(bundles[factory]!, 'tensorflow');
      const gradients = run.models[0]!.backends[0]!.modes?.['native-graph-gradients'];
      assert.ok(gradients, 'a native-graph-gradients section');
      assert.equal(gradients.notCompared, null);
      const manifest = (await loadBundle(bundles[factory]!)).manifest;
      const expected = manifest.goldens.tensors.filter((g) => g.kind === 'grad_input' || g.kind === 'grad_weight').length;
      assert.ok(expected > 0);
      assert.equal(gradients.tensors.length, expected, gradients.tensors.map((t) => t.label).join('\n'));
      for (const t of gradients.tensors) {
        assert.match(t.label, /^native graph grad (input \d+ \(|\S+\/(kernel|bias|\w+)$)/);
        assert.ok(t.comparison.passed, t.label);
      }
    });
  }

  it("a bundle exported before the gradients endpoint: parity says so and compares the outputs", async () => {
    const old = path.join(tmp, 'before-gradients');
    await cp(bundles['temporal_model']!, old, { recursive: true });
    const manifestPath = path.join(old, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { saved_model: Record<string, unknown> };
    delete manifest.saved_model['gradients'];
    await writeFile(manifestPath, JSON.stringify(manifest));
    const run = await parity(old, 'tensorflow');
    const modes = run.models[0]!.backends[0]!.modes!;
    assert.equal(modes['native-graph']!.notCompared, null);
    assert.match(modes['native-graph-gradients']!.notCompared ?? '', /has no gradients endpoint \(exported before keras-bridge wrote one\); export it again with --saved-model/);
    assert.equal(run.outcome, 'pass');
  });

  it('is not run on the other backends, which are not TensorFlow', async () => {
    const run = await parity(bundles['swish_model']!, 'cpu');
    assert.equal(run.models[0]!.backends[0]!.modes?.['native-graph'], undefined);
  });

  it("a model that calls back into Python has no SavedModel: parity says why and still passes", async () => {
    const run = await parity(bundles['risk_model']!, 'tensorflow');
    const section = run.models[0]!.backends[0]!.modes?.['native-graph'];
    assert.match(section!.notCompared ?? '', /^no SavedModel in the bundle: Keras could not export the model as a SavedModel|calls back into Python/);
    assert.equal(run.outcome, 'pass');
  });

  it('loadNativeGraph predicts with the golden inputs what Keras computed, and refuses a bundle without a SavedModel', async () => {
    await useBackend('tensorflow');
    const bundle = await loadBundle(bundles['temporal_model']!);
    const graph = await loadNativeGraph(bundle.dir, bundle.manifest);
    const { inputs, cotangents } = goldenInputs(bundle);
    const [output] = graph.predict(inputs);
    const golden = bundle.manifest.goldens.tensors.find((g) => g.kind === 'output')!;
    assert.deepEqual(output!.shape, golden.shape);
    graph.dispose();
    tf.dispose([output!, ...inputs, ...cotangents]);
    const risk = await loadBundle(bundles['risk_model']!);
    await assert.rejects(loadNativeGraph(risk.dir, risk.manifest), /the bundle has no SavedModel: Keras could not export|calls back into Python/);
    await assert.rejects(loadNativeGraph(bundle.dir, {}), /the bundle has no SavedModel; export it with 'keras-bridge export --saved-model'/);
  });

  it('NativeGraph.gradients computes with the weights it is given: a zero last kernel zeroes the input gradient; nothing leaks', async () => {
    await useBackend('tensorflow');
    const bundle = await loadBundle(bundles['swish_model']!);
    const graph = await loadNativeGraph(bundle.dir, bundle.manifest);
    assert.equal(graph.gradientsUnavailable, null);
    const { inputs, cotangents } = goldenInputs(bundle);
    const weights = bundleWeightTensors(bundle);
    const before = tf.memory().numTensors;
    const own = graph.gradients(inputs, cotangents, weights);
    assert.equal(own.outputs.length, 1);
    assert.equal(own.weightGradients.length, bundle.manifest.weights.length);
    bundle.manifest.weights.forEach((w, k) => assert.equal(own.weightGradients[k] !== undefined, w.trainable, w.path));
    const maxAbs = (t: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]!);
    assert.ok(maxAbs(own.inputGradients[0]!) > 0);
    // The last Dense: y = act(h·k + b). With k = 0 every sample's output is act(b), and no gradient reaches the input.
    const last = bundle.manifest.weights.map((w, k) => [w, k] as const).filter(([w]) => w.path.endsWith('kernel')).at(-1)![1];
    const zeroed = weights.map((w, k) => (k === last ? tf.zerosLike(w) : w));
    const other = graph.gradients(inputs, cotangents, zeroed);
    assert.equal(maxAbs(other.inputGradients[0]!), 0);
    const [first, ...rest] = tf.unstack(other.outputs[0]!);
    for (const row of rest) assert.deepEqual(await row.data(), await first!.data());
    tf.dispose([first!, ...rest]);
    const produced = (g: typeof own) => [...g.outputs, ...g.inputGradients, ...g.weightGradients].filter((t): t is tf.Tensor => t !== undefined);
    tf.dispose([...produced(own), ...produced(other), zeroed[last]!]);
    assert.equal(tf.memory().numTensors, before);
    graph.dispose();
    // Each endpoint alone, for a caller that needs one: the other says how it was loaded.
    const gradientsOnly = await loadNativeGraph(bundle.dir, bundle.manifest, { serve: false });
    assert.throws(() => gradientsOnly.predict(inputs), /loaded without its serve endpoint/);
    gradientsOnly.dispose();
    const serveOnly = await loadNativeGraph(bundle.dir, bundle.manifest, { gradients: false });
    assert.match(serveOnly.gradientsUnavailable ?? '', /loaded without its gradients endpoint/);
    assert.throws(() => serveOnly.gradients(inputs, cotangents, weights), /loaded without its gradients endpoint/);
    serveOnly.dispose();
    tf.dispose([...inputs, ...cotangents, ...weights]);
  });
});
