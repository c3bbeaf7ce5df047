import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { probeBackend } from '../../src/backends/index.js';
import { cachedExport } from '../support/cached-export.js';
import { REPO_ROOT } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

// fixtures/models/mask_models.py: a bool padding mask used by stock Keras layers and operations
// (cast and Multiply, where and logical_not), an int64 index input, and an argmax head (an int32
// output). The bundle is cached in .cache/mask-models, keyed by the model and exporter sources.
const MODELS_FILE = path.join(REPO_ROOT, 'fixtures', 'models', 'mask_models.py');


interface GoldenRecord {
  kind: string;
  name?: string;
  layer?: string;
  dtype: string;
  offset: number;
  byte_length: number;
  bool_values?: { true_count: number; false_count: number };
}

/** A copy of the bundle whose mask (the input golden and its InputLayer's output) is `rewrite(mask)`. */
async function withMask(bundle: string, dir: string, rewrite: (mask: Uint8Array) => void): Promise<string> {
  await cp(bundle, dir, { recursive: true });
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { goldens: { tensors: GoldenRecord[] } };
  const goldens = await readFile(path.join(dir, 'goldens.bin'));
  for (const g of manifest.goldens.tensors) {
    if ((g.kind === 'input' && g.name === 'mask') || (g.kind === 'layer_output' && g.layer === 'mask')) {
      rewrite(goldens.subarray(g.offset, g.offset + g.byte_length));
    }
  }
  await writeFile(path.join(dir, 'goldens.bin'), goldens);
  return dir;
}

describe('bool mask inputs, int64 indices and an argmax head', function () {
  this.timeout(300_000);
  let bundle: string;
  let tmp: string;
  before(async () => {
    bundle = await cachedExport({ modelsFile: MODELS_FILE, factory: 'masked_classifier', cache: 'mask-models', options: { batchSize: 3 } });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-mask-'));
  });
  after(async () => rm(tmp, { recursive: true, force: true }));

  it('exports the mask as bool goldens without a gradient, converts it to a bool tfjs input, and passes parity on cpu, wasm, tensorflow', async () => {
    const manifest = JSON.parse(await readFile(path.join(bundle, 'manifest.json'), 'utf8')) as { goldens: { tensors: GoldenRecord[] } };
    const mask = manifest.goldens.tensors.find((g) => g.kind === 'input' && g.name === 'mask')!;
    assert.equal(mask.dtype, 'bool');
    assert.ok(mask.bool_values!.true_count > 0 && mask.bool_values!.false_count > 0);
    const gradInputs = manifest.goldens.tensors.filter((g) => g.kind === 'grad_input').map((g) => g.name);
    assert.deepEqual(gradInputs, ['frames']);

    const converted = await runCli(['convert', bundle, path.join(tmp, 'model')]);
    assert.equal(converted.exitCode, 0, converted.stderr);
    assert.match(converted.stdout, /dtype: "int64" → "int32" \(tfjs has no int64 tensors/);
    const modelJson = JSON.parse(await readFile(path.join(tmp, 'model', 'model.json'), 'utf8')) as {
      modelTopology: { config: { layers: Array<{ class_name: string; config: { name: string; dtype?: string } }> } };
    };
    const inputDtypes = Object.fromEntries(
      modelJson.modelTopology.config.layers.filter((l) => l.class_name === 'InputLayer').map((l) => [l.config.name, l.config.dtype]),
    );
    assert.deepEqual(inputDtypes, { frames: 'float32', mask: 'bool', ids: 'int32' });

    const backends = ['cpu', 'wasm'];
    if ((await probeBackend('tensorflow')).available) backends.push('tensorflow');
    const parity = await runCli(['parity', bundle, '--backend', backends.join(',')]);
    assert.equal(parity.exitCode, 0, parity.stdout + parity.stderr);
    for (const backend of backends) {
      // The argmax head and the mask are compared exactly, and only forward.
      assert.match(parity.stdout, new RegExp(`output 1 \\(argmax\\)\\s+${backend}\\s+0\\s+0\\s+atol 0 rtol 0\\s+pass`));
      assert.match(parity.stdout, new RegExp(`layer mask\\s+${backend}\\s+0\\s+0\\s+atol 0 rtol 0\\s+pass`));
    }
    assert.doesNotMatch(parity.stdout, /grad input \d+ \((mask|ids)\)/);
  });

  for (const [fault, rewrite] of [
    ['an inverted mask', (m: Uint8Array) => m.forEach((v, i) => (m[i] = v ? 0 : 1))],
    ['a mask read as all True', (m: Uint8Array) => m.fill(1)],
  ] as const) {
    it(`${fault} fails parity downstream of the mask`, async () => {
      const faulty = await withMask(bundle, path.join(tmp, fault.replaceAll(' ', '-')), rewrite);
      const r = await runCli(['parity', faulty, '--backend', 'cpu']);
      assert.equal(r.exitCode, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /layer mask\s+cpu.*pass/);
      assert.match(r.stdout, /layer proj\s+cpu.*pass/);
      assert.match(r.stdout, /output 0 \(logits\)\s+cpu.*FAIL/);
      assert.match(r.stdout, /first diverging layer is '(kept|mean_kept|max_padded)'/);
    });
  }
});
