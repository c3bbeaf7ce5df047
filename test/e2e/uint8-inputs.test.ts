import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { probeBackend } from '../../src/backends/index.js';
import { cachedExport } from '../support/cached-export.js';
import { REPO_ROOT } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

// fixtures/models/uint8_image_models.py: uint8 pixels, Rescaling(1/255) then Conv2D, as image
// models are fed. The bundle is cached in .cache/uint8-models, keyed by the model and exporter sources.
const MODELS_FILE = path.join(REPO_ROOT, 'fixtures', 'models', 'uint8_image_models.py');


interface GoldenRecord {
  kind: string;
  name?: string;
  layer?: string;
  dtype: string;
  offset: number;
  byte_length: number;
  integer_range?: { low: number; high: number; origin: string };
}

describe('uint8 image inputs', function () {
  this.timeout(300_000);
  let bundle: string;
  let tmp: string;
  before(async () => {
    bundle = await cachedExport({ modelsFile: MODELS_FILE, factory: 'uint8_image_classifier', cache: 'uint8-models', options: { batchSize: 2 } });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-uint8-'));
  });
  after(async () => rm(tmp, { recursive: true, force: true }));

  it('exports pixels as uint8 goldens over [0, 256) without a gradient, converts them to an int32 tfjs input, and passes parity on cpu, wasm, tensorflow', async () => {
    const manifest = JSON.parse(await readFile(path.join(bundle, 'manifest.json'), 'utf8')) as { goldens: { tensors: GoldenRecord[] } };
    const pixels = manifest.goldens.tensors.find((g) => g.kind === 'input' && g.name === 'pixels')!;
    assert.equal(pixels.dtype, 'uint8');
    assert.deepEqual(pixels.integer_range, { low: 0, high: 256, origin: 'default (the range of uint8)' });
    const values = (await readFile(path.join(bundle, 'goldens.bin'))).subarray(pixels.offset, pixels.offset + pixels.byte_length);
    assert.ok(Math.max(...values) > 200, 'pixels span the uint8 range');
    assert.deepEqual(manifest.goldens.tensors.filter((g) => g.kind === 'grad_input'), []);

    const converted = await runCli(['convert', bundle, path.join(tmp, 'model')]);
    assert.equal(converted.exitCode, 0, converted.stderr);
    const modelJson = JSON.parse(await readFile(path.join(tmp, 'model', 'model.json'), 'utf8')) as {
      modelTopology: { config: { layers: Array<{ class_name: string; config: { name: string; dtype?: string } }> } };
    };
    const input = modelJson.modelTopology.config.layers.find((l) => l.class_name === 'InputLayer')!;
    assert.equal(input.config.dtype, 'int32');

    const backends = ['cpu', 'wasm'];
    if ((await probeBackend('tensorflow')).available) backends.push('tensorflow');
    const parity = await runCli(['parity', bundle, '--backend', backends.join(',')]);
    assert.equal(parity.exitCode, 0, parity.stdout + parity.stderr);
    for (const backend of backends) {
      assert.match(parity.stdout, new RegExp(`layer pixels\\s+${backend}\\s+0\\s+0\\s+atol 0 rtol 0\\s+pass`));
      assert.match(parity.stdout, new RegExp(`layer rescale\\s+${backend}\\s+.*pass`));
    }
    assert.doesNotMatch(parity.stdout, /grad input \d+ \(pixels\)/);
  });

  it('pixels read as signed bytes (int8) fail parity from the Rescaling on', async () => {
    const faulty = path.join(tmp, 'as-int8');
    await cp(bundle, faulty, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(faulty, 'manifest.json'), 'utf8')) as { inputs: { dtype: string }[]; goldens: { tensors: GoldenRecord[] } };
    manifest.inputs[0]!.dtype = 'int8';
    for (const g of manifest.goldens.tensors) if (g.dtype === 'uint8') g.dtype = 'int8';
    await writeFile(path.join(faulty, 'manifest.json'), JSON.stringify(manifest));
    const r = await runCli(['parity', faulty, '--backend', 'cpu']);
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /layer rescale\s+cpu.*FAIL/);
    assert.match(r.stdout, /first diverging layer is 'rescale'/);
  });
});
