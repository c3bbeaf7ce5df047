import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { probeBackend } from '../../src/backends/index.js';
import { cachedExport } from '../support/cached-export.js';
import { REPO_ROOT } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

const MODELS = path.join(REPO_ROOT, 'fixtures', 'models', 'inference_rewrite_models.py');

interface SavedRun {
  outcome: string;
  models: Array<{
    backends: Array<{
      backend: string;
      outcome: string;
      tensors: Array<{ label: string; kind: string; comparison: { passed: boolean } }>;
      isolated: { tensors: Array<{ label: string }> };
      training?: { notCompared: string | null };
      afterTraining?: { notCompared: string | null };
    }>;
  }>;
}

// convert --fold-batch-norm and the parity that proves it (docs/inference-rewrites.md): a model
// whose BatchNormalizations fold into the layers before them, against Keras's own goldens.
describe('convert --fold-batch-norm, checked by parity', function () {
  this.timeout(600_000);
  let tmp: string;
  let bundle: string;
  let folded: string;

  before(async function () {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-fold-'));
    bundle = await cachedExport({ modelsFile: MODELS, factory: 'folding_cnn', cache: 'inference-rewrites', options: { seed: 0, batchSize: 2, layerGradients: 'always', trainSteps: 1 } });
    folded = path.join(tmp, 'folded');
    const r = await runCli(['convert', bundle, folded, '--fold-batch-norm', '--json']);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  });
  after(async () => tmp && rm(tmp, { recursive: true, force: true }));

  it('folds what it can and lists it in the report and in model.json; leaves the rest', async () => {
    const report = JSON.parse(await readFile(path.join(folded, 'conversion-report.json'), 'utf8')) as { inferenceRewrites: Array<{ kind: string; removed: string; into: string }> };
    assert.deepEqual(report.inferenceRewrites, [
      { kind: 'fold-batch-norm', removed: 'stem_bn', into: 'stem_conv' },
      { kind: 'fuse-activation', removed: 'stem_relu', into: 'stem_conv' },
      { kind: 'fold-batch-norm', removed: 'dw_bn', into: 'dw_conv' },
      { kind: 'fuse-activation', removed: 'dw_relu6', into: 'dw_conv' },
      { kind: 'fold-batch-norm', removed: 'project_bn', into: 'project_conv' },
      { kind: 'fold-batch-norm', removed: 'fc_bn', into: 'fc' },
      { kind: 'fuse-activation', removed: 'fc_elu', into: 'fc' },
    ]);
    const json = JSON.parse(await readFile(path.join(folded, 'model.json'), 'utf8')) as { userDefinedMetadata: { kerasBridge: { inferenceRewrites: unknown[] } }; modelTopology: { config: { layers: Array<{ name: string }> } } };
    assert.deepEqual(json.userDefinedMetadata.kerasBridge.inferenceRewrites, report.inferenceRewrites);
    const names = json.modelTopology.config.layers.map((l) => l.name);
    for (const kept of ['add_relu', 'shortcut_conv', 'after_relu_bn', 'relu_conv']) assert.ok(names.includes(kept), kept);
    for (const gone of ['stem_bn', 'stem_relu', 'dw_bn', 'dw_relu6', 'project_bn', 'fc_bn', 'fc_elu']) assert.ok(!names.includes(gone), gone);
  });

  for (const how of ['--fold-batch-norm', '--model-dir'] as const) {
    it(`parity ${how}: outputs, input gradients, every surviving layer's output and dL/dy pass on cpu; the folded weights' gradients and training mode are not compared, with why`, async () => {
      const json = path.join(tmp, `run${how}.json`);
      const args = how === '--model-dir' ? ['--model-dir', folded] : ['--fold-batch-norm'];
      const r = await runCli(['parity', bundle, '--backend', 'cpu', '--json', json, ...args]);
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      const backend = (JSON.parse(await readFile(json, 'utf8')) as SavedRun).models[0]!.backends[0]!;
      const labels = backend.tensors.map((t) => t.label);
      assert.ok(labels.includes('layer stem_conv (as stem_relu, folded into it)'), labels.join('\n'));
      assert.ok(labels.includes('grad layer fc (as fc_elu, folded into it)'), labels.join('\n'));
      assert.ok(labels.some((l) => l.startsWith('output 0')) && labels.some((l) => l.startsWith('grad input 0')));
      assert.ok(labels.includes('grad folding_cnn/head/kernel') || labels.some((l) => /head\/kernel/.test(l)), 'an untouched layer keeps its weight gradients');
      for (const gone of ['stem_bn', 'fc_bn', 'stem_conv/kernel', 'fc/kernel']) assert.ok(!labels.some((l) => l.includes(gone)), `${gone} was compared`);
      assert.ok(backend.isolated.tensors.some((t) => t.label.startsWith('layer stem_conv (as stem_relu')), 'the folded layer alone, against the last layer it absorbed');
      assert.match(backend.training?.notCompared ?? '', /^the model was converted with --fold-batch-norm/);
      assert.match(backend.afterTraining?.notCompared ?? '', /^the model was converted with --fold-batch-norm/);
    });
  }

  it('the folded model passes on the tensorflow backend too', async function () {
    if (!(await probeBackend('tensorflow')).available) this.skip();
    const r = await runCli(['parity', bundle, '--backend', 'tensorflow', '--model-dir', folded]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  });

  it('parity refuses --fold-batch-norm with --model-dir, which says how it was converted', async () => {
    const r = await runCli(['parity', bundle, '--model-dir', folded, '--fold-batch-norm']);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /--fold-batch-norm converts the bundle/);
  });
});
