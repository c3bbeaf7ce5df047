import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { probeBackend } from '../../src/backends/index.js';
import { cachedExport } from '../support/cached-export.js';
import { REPO_ROOT } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

// fixtures/models/call_argument_models.py: tensors passed as call keyword arguments (a bool input
// as mask= of LSTM, GRU, SimpleRNN and a custom layer; initial_state=; MultiHeadAttention's
// attention_mask=; Attention's mask=[query_mask, value_mask]; a custom layer's scale=). Bundles are
// cached in .cache/call-argument-models, keyed by the models and exporter sources.
const MODELS_FILE = path.join(REPO_ROOT, 'fixtures', 'models', 'call_argument_models.py');
const LAYERS = path.join(REPO_ROOT, 'dist', 'test', 'support', 'call-argument-layers.js');

function cachedBundle(factory: string): Promise<string> {
  return cachedExport({ modelsFile: MODELS_FILE, factory, cache: 'call-argument-models', options: { batchSize: 3 } });
}

const CASES: Array<{ factory: string; adapters: Record<string, string>; custom?: boolean }> = [
  { factory: 'recurrent_mask_input', adapters: { lstm: 'mask', gru: 'mask', rnn: 'mask' } },
  // Not dropped as Embedding's own mask would be: mask_zero is off, so tfjs would propagate none.
  { factory: 'computed_mask_without_mask_zero', adapters: { lstm: 'mask' } },
  { factory: 'recurrent_initial_state', adapters: { gru: 'initialState', lstm: 'initialState' } },
  { factory: 'attention_mask_input', adapters: { mha: 'attentionMask' } },
  { factory: 'attention_query_value_masks', adapters: { attention: 'mask' } },
  { factory: 'custom_tensor_kwargs', adapters: { masked_mean: 'mask', scaled_shift: 'scale' }, custom: true },
];

describe('tensors passed as call keyword arguments', function () {
  this.timeout(600_000);
  let tmp: string;
  let backends: string[];
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-call-args-'));
    backends = ['cpu', 'wasm'];
    if ((await probeBackend('tensorflow')).available) backends.push('tensorflow');
  });
  after(async () => rm(tmp, { recursive: true, force: true }));

  for (const { factory, adapters, custom } of CASES) {
    it(`${factory}: ${Object.entries(adapters).map(([l, k]) => `${l}(${k}=)`).join(', ')} convert to adapters and pass parity on cpu, wasm, tensorflow`, async () => {
      const bundle = await cachedBundle(factory);
      const extra = custom ? ['--custom-layers', LAYERS] : [];
      const out = path.join(tmp, factory);
      const converted = await runCli(['convert', bundle, out, ...extra]);
      assert.equal(converted.exitCode, 0, converted.stdout + converted.stderr);
      const modelJson = JSON.parse(await readFile(path.join(out, 'model.json'), 'utf8')) as {
        modelTopology: { config: { layers: Array<{ class_name: string; config: { name: string; tensor_kwargs?: Array<{ call: string }> } }> } };
      };
      for (const [name, kwarg] of Object.entries(adapters)) {
        const converted = modelJson.modelTopology.config.layers.find((l) => l.config.name === name)!;
        assert.equal(converted.class_name, 'KerasBridgeCallArguments', name);
        assert.ok(converted.config.tensor_kwargs!.some((k) => k.call === kwarg), `${name} passes ${kwarg}`);
      }
      const parity = await runCli(['parity', bundle, ...extra, '--backend', backends.join(',')]);
      assert.equal(parity.exitCode, 0, parity.stdout + parity.stderr);
      for (const name of Object.keys(adapters)) {
        for (const backend of backends) assert.match(parity.stdout, new RegExp(`layer ${name}\\s+${backend}\\s.*pass`));
      }
    });
  }

  it('a mask read as all True (the mask input ignored) fails parity: the mask reaches the recurrent layers', async () => {
    const bundle = await cachedBundle('recurrent_mask_input');
    const manifest = JSON.parse(await readFile(path.join(bundle, 'manifest.json'), 'utf8')) as {
      goldens: { tensors: Array<{ kind: string; name?: string; layer?: string; offset: number; byte_length: number }> };
    };
    const faulty = path.join(tmp, 'all-true-mask');
    await mkdir(faulty, { recursive: true });
    for (const file of readdirSync(bundle)) await writeFile(path.join(faulty, file), await readFile(path.join(bundle, file)));
    const goldens = await readFile(path.join(faulty, 'goldens.bin'));
    for (const g of manifest.goldens.tensors) {
      if ((g.kind === 'input' && g.name === 'mask') || (g.kind === 'layer_output' && g.layer === 'mask')) goldens.subarray(g.offset, g.offset + g.byte_length).fill(1);
    }
    await writeFile(path.join(faulty, 'goldens.bin'), goldens);
    const r = await runCli(['parity', faulty, '--backend', 'cpu']);
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /layer lstm\s+cpu.*FAIL/);
  });
});
