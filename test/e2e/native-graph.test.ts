import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { probeBackend, useBackend } from '../../src/backends/index.js';
import { loadBundle } from '../../src/keras/bundle.js';
import { loadNativeGraph } from '../../src/native/native-graph.js';
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
  }

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
});
