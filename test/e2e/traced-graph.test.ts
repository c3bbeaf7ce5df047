import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { probeBackend } from '../../src/backends/index.js';
import { loadBundle } from '../../src/keras/bundle.js';
import { cachedExport } from '../support/cached-export.js';
import { REPO_ROOT } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

const SEED_MODELS = path.join(REPO_ROOT, 'fixtures', 'seed', 'seed_models.py');
const SEED = ['--custom-layers', 'keras-bridge/layers/seed'];

interface SavedRun {
  outcome: string;
  models: Array<{ backends: Array<{ backend: string; modes?: Record<string, { tensors: Array<{ label: string; comparison: { passed: boolean } }>; notCompared: string | null }> }> }>;
}

// Parity's traced-graph mode (docs/native-graph.md, "Traced"): the converted model, TypeScript
// layers included, traced into one TensorFlow graph in Node, its outputs and gradients against
// Keras's goldens. The seed's risk model has no SavedModel (tf.py_function), and traces all the same.
describe("parity's traced-graph mode: the converted model as one TensorFlow graph", function () {
  this.timeout(600_000);
  let tmp: string;
  const bundles: Record<string, string> = {};
  before(async function () {
    if (!(await probeBackend('tensorflow')).available) this.skip();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-traced-graph-'));
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

  for (const factory of ['swish_model', 'temporal_model', 'risk_model']) {
    it(`${factory}: on tensorflow, the traced graph's outputs and input and weight gradients match Keras's goldens`, async () => {
      const run = await parity(bundles[factory]!, 'tensorflow');
      const section = run.models[0]!.backends[0]!.modes?.['traced-graph'];
      assert.ok(section, 'a traced-graph section');
      assert.equal(section.notCompared, null);
      const manifest = (await loadBundle(bundles[factory]!)).manifest;
      const expected = manifest.goldens.tensors.filter((g) => g.kind === 'output' || g.kind === 'grad_input' || g.kind === 'grad_weight').length;
      assert.equal(section.tensors.length, expected, section.tensors.map((t) => t.label).join('\n'));
      assert.ok(section.tensors.some((t) => t.label.startsWith('traced graph output 0')));
      assert.ok(section.tensors.some((t) => t.label.startsWith('traced graph grad input 0')));
      for (const t of section.tensors) assert.ok(t.comparison.passed, t.label);
      assert.equal(run.outcome, 'pass');
    });
  }

  it('is not run on the other backends', async () => {
    const run = await parity(bundles['swish_model']!, 'cpu');
    assert.equal(run.models[0]!.backends[0]!.modes?.['traced-graph'], undefined);
  });
});
