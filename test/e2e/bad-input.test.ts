import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fixtureBundle } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

const SEED_LAYERS = ['--custom-layers', 'keras-bridge/layers/seed'];

describe('bad input: clear errors, exit 2, nothing half-written', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-bad-'));
  });
  afterEach(async () => rm(tmp, { recursive: true, force: true }));

  async function copyBundle(name: string): Promise<string> {
    const dir = path.join(tmp, name);
    await cp(fixtureBundle(name), dir, { recursive: true });
    return dir;
  }

  async function editModelConfig(dir: string, edit: (layers: Array<{ class_name: string; config: Record<string, unknown> }>) => void) {
    const file = path.join(dir, 'model.keras.json');
    const config = JSON.parse(await readFile(file, 'utf8'));
    edit(config.config.layers);
    await writeFile(file, JSON.stringify(config));
  }

  it('missing bundle', async () => {
    const r = await runCli(['parity', path.join(tmp, 'nope'), ...SEED_LAYERS]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /nope: no bundle here/);
  });

  it('corrupt manifest JSON names the file', async () => {
    const dir = await copyBundle('swish');
    await writeFile(path.join(dir, 'manifest.json'), '{"format": "keras-bridge-bundle", ');
    const r = await runCli(['parity', dir, ...SEED_LAYERS]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /manifest\.json: not valid JSON/);
  });

  it('a manifest field of the wrong type names the field', async () => {
    const dir = await copyBundle('swish');
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    manifest.batch_size = 'two';
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    const r = await runCli(['parity', dir, ...SEED_LAYERS]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /manifest\.json: field 'batch_size'/);
  });

  it('truncated weights.bin', async () => {
    const dir = await copyBundle('swish');
    await truncate(path.join(dir, 'weights.bin'), 100);
    const r = await runCli(['parity', dir, ...SEED_LAYERS]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /weights\.bin: weight '[^']+' ends at byte \d+, past the end of the file \(100 bytes\)/);
  });

  it('unregistered custom layer names the class and how to register it', async () => {
    const r = await runCli(['parity', fixtureBundle('swish')]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /custom layer class 'SwishActivation' has no TypeScript implementation registered:.*- SwishActivation \(Python module 'seed_models'\): layer 'swish_activation'.*registerLayer\('SwishActivation'/s);
  });

  it('a custom layer config that fails its schema names the model file, layer and field', async () => {
    const dir = await copyBundle('temporal');
    await editModelConfig(dir, (layers) => {
      layers.find((l) => l.class_name === 'TemporalWeighting')!.config['units'] = 'five';
    });
    const r = await runCli(['parity', dir, ...SEED_LAYERS]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /model\.keras\.json: layer 'temporal_weighting', config field 'units': Expected number/);
  });

  it('a weight whose shape does not match the layer names layer, weight and both shapes', async () => {
    const dir = await copyBundle('temporal');
    await editModelConfig(dir, (layers) => {
      layers.find((l) => l.class_name === 'TemporalWeighting')!.config['units'] = 6;
    });
    const r = await runCli(['parity', dir, ...SEED_LAYERS]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /layer 'temporal_weighting', weight '\w+' .*shape \[10, 5\] in Keras but tfjs expects \[10, 6\]/);
  });

  it('a Lambda layer is refused: we never execute code from a model file', async () => {
    const dir = await copyBundle('swish');
    await editModelConfig(dir, (layers) => {
      layers[2] = { ...layers[2]!, class_name: 'Lambda', module: 'keras.layers', config: { ...layers[2]!.config, function: 'base64...' } } as never;
    });
    const r = await runCli(['parity', dir, ...SEED_LAYERS]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /field 'config\.layers\[2\]' is a Lambda layer: it holds serialized Python code, which keras-bridge never executes/);
  });

  it('a failed convert leaves no output and no temporary directory', async () => {
    const out = path.join(tmp, 'converted');
    const r = await runCli(['convert', fixtureBundle('swish'), out]);
    assert.equal(r.exitCode, 2);
    assert.deepEqual(await readdir(tmp), []);
  });

  it('a convert that succeeds replaces an existing output directory whole', async () => {
    const out = path.join(tmp, 'converted');
    assert.equal((await runCli(['convert', fixtureBundle('swish'), out, ...SEED_LAYERS])).exitCode, 0);
    await writeFile(path.join(out, 'stale.txt'), 'old');
    const r = await runCli(['convert', fixtureBundle('swish'), out, ...SEED_LAYERS]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual((await readdir(out)).sort(), ['conversion-report.json', 'group1-shard1of1.bin', 'model.json']);
    assert.deepEqual(await readdir(tmp), ['converted']);
  });

  it('Python missing', async () => {
    const r = await runCli(['export', '--out', path.join(tmp, 'b'), '--factory', 'seed_models:swish_model', '--python', path.join(tmp, 'no-python')]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /Python not found at .*no-python.*npm run setup/);
  });

  it('Python failing: its error and exit code are surfaced, nothing is written', async () => {
    const out = path.join(tmp, 'b');
    const r = await runCli(['export', '--out', out, '--factory', 'seed_models:no_such_factory', '--path', 'fixtures/seed']);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /Python exporter exited with code 2/);
    assert.match(r.stderr, /no_such_factory/);
    assert.deepEqual(await readdir(tmp), []);
  });

  it('usage errors: --atol without --rtol, unknown backend, unknown command', async () => {
    assert.equal((await runCli(['parity', fixtureBundle('swish'), '--atol', '1e-3'])).exitCode, 2);
    const backend = await runCli(['parity', fixtureBundle('swish'), '--backend', 'metal']);
    assert.equal(backend.exitCode, 2);
    assert.match(backend.stderr, /unknown backend 'metal'/);
    assert.equal((await runCli(['frobnicate'])).exitCode, 2);
  });
});
