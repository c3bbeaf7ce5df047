import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tf from '#tfjs';
import { probeBackend, type BackendName } from '../../src/backends/index.js';
import { convertKerasModel } from '../../src/convert/convert-model.js';
import { weightsFromBundle } from '../../src/convert/weight-source.js';
import { loadBundle } from '../../src/keras/bundle.js';
import '../../src/layers/seed/index.js';
import { checkBundleParity } from '../../src/parity/check-parity.js';
import { modelDirectory, writeModelDirectory } from '../../src/tfjs-io/model-directory.js';
import { fixtureBundle, SEED_BUNDLES } from '../support/paths.js';

describe('seed example end to end (goldens from Keras, fixtures/bundles)', function () {
  const backends: BackendName[] = [];
  before(async () => {
    for (const name of ['cpu', 'wasm', 'tensorflow'] as const) {
      if ((await probeBackend(name)).available) backends.push(name);
    }
  });

  for (const name of [...SEED_BUNDLES, 'two_branch']) {
    it(`${name}: outputs, every layer output and every gradient match Keras on each backend`, async () => {
      const result = await checkBundleParity(fixtureBundle(name), { backends });
      for (const backend of result.backends) {
        const failed = backend.tensors.filter((t) => !t.comparison.passed).map((t) => `${t.label}: max abs ${t.comparison.maxAbsError}`);
        assert.deepEqual(failed, [], `${name} on ${backend.backend}`);
        const kinds = new Set(backend.tensors.map((t) => t.kind));
        assert.deepEqual([...kinds].sort(), ['grad_input', 'grad_layer_output', 'grad_weight', 'layer_output', 'output']);
      }
      assert.equal(result.backends.length, backends.length);
    });
  }

  it('risk: gradients upstream of the py_function layer come from finite differences, downstream from autodiff', async () => {
    const bundle = await loadBundle(fixtureBundle('risk'));
    const grads = bundle.manifest.goldens.tensors.filter((t) => t.kind === 'grad_weight' || t.kind === 'grad_input');
    const sourceOf = (layer: string | null) => new Set(grads.filter((g) => (g.kind === 'grad_weight' ? g.layer : null) === layer).map((g) => g.source));
    const riskLayer = bundle.manifest.layers.find((l) => l.class_name === 'CustomRiskLayer')!;
    assert.equal(riskLayer.python_differentiable, false);
    assert.deepEqual(bundle.manifest.goldens.gradients.finite_difference_layers, [riskLayer.name]);
    const [first, , last] = bundle.manifest.layers;
    assert.deepEqual([...sourceOf(first!.name)], ['finite_difference']);
    assert.deepEqual([...sourceOf(null)], ['finite_difference']);
    assert.deepEqual([...sourceOf(last!.name)], ['autodiff']);
  });

  it('convert writes a model.json + shards that stock tf.loadLayersModel loads, weights copied bit for bit', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-convert-'));
    try {
      const bundle = await loadBundle(fixtureBundle('temporal'));
      const converted = await convertKerasModel(bundle.modelConfig, weightsFromBundle(bundle), 'temporal');
      const out = path.join(tmp, 'tfjs');
      await writeModelDirectory(out, converted);
      const json = JSON.parse(await readFile(path.join(out, 'model.json'), 'utf8'));
      const shards = await Promise.all(json.weightsManifest[0].paths.map((p: string) => readFile(path.join(out, p))));
      const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
      assert.equal(sha(Buffer.concat(shards)), sha(bundle.weightBytes));
      const model = await tf.loadLayersModel(modelDirectory(out));
      const kernel = model.getLayer('temporal_weighting').getWeights()[0]!;
      const kerasKernel = bundle.manifest.weights.find((w) => w.layer === 'temporal_weighting')!;
      assert.equal(sha(new Uint8Array((await kernel.data()).buffer)), sha(bundle.weightBytes.subarray(kerasKernel.offset, kerasKernel.offset + kerasKernel.byte_length)));
      model.dispose();
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
