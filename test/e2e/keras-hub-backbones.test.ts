import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { probeBackend } from '../../src/backends/index.js';
import type { ParityRun } from '../../src/parity/parity-result.js';
import { resolvePython } from '../../src/python-export/python-exporter.js';
import { cachedExport } from '../support/cached-export.js';
import { REPO_ROOT } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

// KerasHub's BertBackbone and GPT2Backbone (fixtures/models/keras_hub_models.py): third-party
// subclassed functional models with dict inputs and an open sequence length, exported at two
// lengths and converted with no --custom-layers. Each keras_hub layer takes the first route that
// works (docs/custom-layer-routes.md): BERT's TransformerEncoder is translated from its source
// (route 1; its registered activation keras_hub>gelu_approximate too); PositionEmbedding (a vLLM
// serving hook route 1 cannot follow) and GPT-2's TransformerDecoder (its build reads
// **kwargs shapes) take the graph route with padding_mask= as a keyword input; keras.layers'
// ReversibleEmbedding converts as Embedding. Skipped when the optional keras_hub is not installed.
const MODELS_FILE = path.join(REPO_ROOT, 'fixtures', 'models', 'keras_hub_models.py');
const PROOFS = [
  { factory: 'bert_model', routes: { position_embedding: 'graph', transformer_layer_0: 'translated', token_embedding: 'tfjs' } },
  { factory: 'gpt2_model', routes: { position_embedding: 'graph', transformer_layer_0: 'graph', token_embedding: 'tfjs' } },
];
const SHAPES = ['token_ids=12', 'token_ids=5'];

function kerasHubInstalled(): boolean {
  try {
    execFileSync(resolvePython(), ['-c', 'import keras_hub'], { stdio: 'ignore', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });
    return true;
  } catch {
    return false;
  }
}

describe('KerasHub backbones end to end, no --custom-layers (issue 11, third-party proof)', function () {
  this.timeout(600_000);
  const bundles = new Map<string, string>();
  const backends = ['cpu', 'wasm'];
  let tmp: string;
  before(async function () {
    if (!kerasHubInstalled()) this.skip();
    // --float64-reference: the segment embedding's gradient sums many float32 terms; its tolerance
    // then includes Keras's own measured float32 error (docs/tolerances.md).
    for (const proof of PROOFS) {
      bundles.set(proof.factory, await cachedExport({ modelsFile: MODELS_FILE, factory: proof.factory, cache: 'keras-hub', options: { inputShapes: SHAPES, float64Reference: true } }));
    }
    if ((await probeBackend('tensorflow')).available) backends.push('tensorflow');
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-keras-hub-'));
  });
  after(async () => tmp && rm(tmp, { recursive: true, force: true }));

  for (const proof of PROOFS) {
    it(`${proof.factory}: converts with each keras_hub layer on its route`, async () => {
      const converted = await runCli(['convert', bundles.get(proof.factory)!, path.join(tmp, proof.factory), '--json']);
      assert.equal(converted.exitCode, 0, converted.stderr);
      const report = JSON.parse(converted.stdout) as { layers: Array<{ name: string; mapping: string }> };
      const mapping = Object.fromEntries(report.layers.map((l) => [l.name, l.mapping]));
      for (const [layer, route] of Object.entries(proof.routes)) assert.equal(mapping[layer], route, `${proof.factory}: ${layer}`);
    });
  }

  it('passes parity of outputs, layer outputs and gradients at both lengths on cpu, wasm and tensorflow', async () => {
    const json = path.join(tmp, 'parity.json');
    const parity = await runCli(['parity', ...PROOFS.map((p) => bundles.get(p.factory)!), '--backend', backends.join(','), '--json', json]);
    assert.equal(parity.exitCode, 0, parity.stdout + parity.stderr);
    const run = JSON.parse(await readFile(json, 'utf8')) as ParityRun;
    for (const proof of PROOFS) {
      const results = run.models.filter((m) => m.bundle === bundles.get(proof.factory));
      assert.equal(results.length, 2, `${proof.factory}: one case per length`);
      for (const result of results) {
        assert.deepEqual(result.backends.map((b) => b.backend), backends);
        for (const b of result.backends) {
          assert.equal(b.outcome, 'pass', `${result.model} on ${b.backend}`);
          assert.equal(b.gradientsNotCompared, null);
          const kinds = new Set(b.tensors.map((t) => t.kind));
          for (const kind of ['output', 'layer_output', 'grad_weight', 'grad_layer_output']) assert.ok(kinds.has(kind as never), `${result.model} on ${b.backend}: no ${kind} compared`);
        }
      }
    }
  });
});
