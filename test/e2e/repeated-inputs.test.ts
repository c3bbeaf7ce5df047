import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tf from '#tfjs';
import { probeBackend } from '../../src/backends/index.js';
import { goldenInputs } from '../../src/parity/evaluate-model.js';
import { loadBundle } from '../../src/keras/bundle.js';
import type { ParityRun } from '../../src/parity/parity-result.js';
import { modelDirectory } from '../../src/tfjs-io/model-directory.js';
import '../../src/runtime.js';
import { cachedExport } from '../support/cached-export.js';
import { REPO_ROOT } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

// A post-norm (BERT-order) Transformer encoder: MultiHeadAttention()(x, x) reads x in two slots
// while x also feeds the residual. tfjs-layers 4.22's executor counts x's consumers once per layer
// and uncounts them once per slot, so without the converter's input copy (repeated-inputs.ts) it
// disposes x before the residual reads it, and predict()/execute() fail.
const MODELS_FILE = path.join(REPO_ROOT, 'fixtures', 'models', 'open_dims_models.py');
const CASES = ['token_ids=12', 'token_ids=5'];

interface ModelJson {
  modelTopology: { config: { layers: Array<{ class_name: string; name: string; config: { name: string }; inbound_nodes: Array<Array<[string, number, number, unknown]>> }> } };
}

describe('a layer reading one tensor in two slots: post-norm Transformer encoder at two lengths', function () {
  this.timeout(600_000);
  const backends = ['cpu', 'wasm'];
  let bundle: string;
  let tmp: string;
  let modelDir: string;
  before(async () => {
    bundle = await cachedExport({ modelsFile: MODELS_FILE, factory: 'post_norm_encoder', cache: 'open-dims', options: { inputShapes: ['token_ids=12', 'token_ids=5'] } });
    if ((await probeBackend('tensorflow')).available) backends.push('tensorflow');
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-repeated-'));
    modelDir = path.join(tmp, 'model');
    const converted = await runCli(['convert', bundle, modelDir]);
    assert.equal(converted.exitCode, 0, converted.stderr);
    assert.match(converted.stdout, /inbound_nodes\[0\]\[1\]: \["embedding_norm",0,0\] → \["self_attention_0\/repeated_input_0",0,0\]/);
  });
  after(async () => rm(tmp, { recursive: true, force: true }));

  it('passes parity at both lengths on cpu, wasm and tensorflow: outputs from predict(), layer outputs, gradients, each layer alone', async () => {
    const json = path.join(tmp, 'parity.json');
    const parity = await runCli(['parity', bundle, '--backend', backends.join(','), '--json', json]);
    assert.equal(parity.exitCode, 0, parity.stdout + parity.stderr);
    const run = JSON.parse(await readFile(json, 'utf8')) as ParityRun;
    assert.deepEqual(run.models.map((m) => m.case?.name), CASES);
    // The progress counter counts golden cases × backends, each step once.
    const steps = CASES.length * backends.length;
    assert.deepEqual(
      [...parity.stderr.matchAll(/^parity: \[(\d+)\/(\d+)\] post_norm_encoder \[(.*)\] on (\S+)$/gm)].map((m) => m.slice(1).join(' ')),
      CASES.flatMap((c, i) => backends.map((b, j) => `${i * backends.length + j + 1} ${steps} ${c} ${b}`)),
    );
    for (const result of run.models) {
      assert.deepEqual(result.backends.map((b) => b.backend), backends);
      for (const b of result.backends) {
        assert.equal(b.outcome, 'pass', `${result.model} on ${b.backend}`);
        assert.equal(b.gradientsNotCompared, null);
        const kinds = new Set(b.tensors.map((t) => t.kind));
        for (const kind of ['output', 'layer_output', 'grad_weight', 'grad_layer_output']) assert.ok(kinds.has(kind as never), `${result.model} on ${b.backend}: no ${kind}`);
        // The attention layers, which take x twice, run alone forward and backward on Keras's inputs.
        const alone = b.isolated.gradients.tensors.map((t) => t.layer);
        for (const layer of ['self_attention_0', 'self_attention_1']) {
          assert.ok(b.isolated.tensors.some((t) => t.layer === layer), `${result.model} on ${b.backend}: ${layer} not run alone`);
          assert.ok(alone.includes(layer), `${result.model} on ${b.backend}: ${layer}'s gradients not checked alone`);
        }
      }
    }
  });

  // parity compares predict()'s outputs with Keras's (evaluate-model.ts); execute() must agree with it.
  it("stock predict() and execute() of the converted model run and agree; without the input copy tfjs's executor fails in both", async () => {
    const loaded = await loadBundle(bundle);
    const { inputs } = goldenInputs(loaded);
    const model = await tf.loadLayersModel(modelDirectory(modelDir));
    const predicted = model.predict(inputs) as tf.Tensor;
    const [executed] = model.execute(inputs, model.outputs.map((o) => o.name)) as tf.Tensor[];
    assert.deepEqual(await executed!.data(), await predicted.data());
    const golden = loaded.manifest.goldens.tensors.find((g) => g.kind === 'output')!;
    assert.deepEqual(predicted.shape, golden.shape);

    // The same model.json with each copy removed and its slot reading the original tensor again.
    const json = JSON.parse(await readFile(path.join(modelDir, 'model.json'), 'utf8')) as ModelJson;
    const layers = json.modelTopology.config.layers;
    const copies = new Map(layers.filter((l) => l.class_name === 'KerasBridgeInputCopy').map((l) => [l.name, l.inbound_nodes]));
    assert.deepEqual([...copies.keys()], ['self_attention_0/repeated_input_0', 'self_attention_1/repeated_input_0']);
    json.modelTopology.config.layers = layers
      .filter((l) => !copies.has(l.name))
      .map((l) => ({ ...l, inbound_nodes: l.inbound_nodes.map((node) => node.map((t) => (copies.has(t[0]) ? [...copies.get(t[0])![t[1]]![0]!.slice(0, 3), t[3]] : t) as [string, number, number, unknown])) }));
    const unfixed = path.join(tmp, 'unfixed');
    await cpModel(modelDir, unfixed, json);
    const broken = await tf.loadLayersModel(modelDirectory(unfixed));
    assert.throws(() => broken.predict(inputs), /Cannot read properties of undefined \(reading 'backend'\)/);
    assert.throws(() => broken.execute(inputs, broken.outputs.map((o) => o.name)), /Cannot read properties of undefined \(reading 'backend'\)/);
    tf.dispose([...inputs, predicted, executed!]);
    model.dispose();
    broken.dispose();
  });
});

async function cpModel(from: string, to: string, json: ModelJson): Promise<void> {
  const { cp } = await import('node:fs/promises');
  await cp(from, to, { recursive: true });
  await writeFile(path.join(to, 'model.json'), JSON.stringify(json));
}
