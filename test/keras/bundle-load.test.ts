import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../src/errors.js';
import { loadBundle } from '../../src/keras/bundle.js';
import { FIXTURE_BUNDLES } from '../support/paths.js';

// fixtures/bundles/training: goldens of every kind (end to end, layer, training mode).
describe('a bundle loaded without its goldens', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'kb-bundle-load-'));
    cpSync(path.join(FIXTURE_BUNDLES, 'training'), dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const damageGoldenRecords = () => {
    const file = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { goldens: { tensors: Array<Record<string, unknown>>; training?: unknown } };
    assert.ok(manifest.goldens.tensors.length > 0 && manifest.goldens.training, 'the fixture has goldens of both kinds');
    manifest.goldens.tensors[0]!['shape'] = 'not a shape';
    writeFileSync(file, JSON.stringify(manifest));
  };

  it('keeps the model, its layers and weights, and no golden record', async () => {
    const full = await loadBundle(dir);
    const bare = await loadBundle(dir, { goldens: false });
    assert.deepEqual(bare.manifest.weights, full.manifest.weights);
    assert.deepEqual(bare.manifest.layers, full.manifest.layers);
    assert.deepEqual(bare.modelConfig, full.modelConfig);
    assert.equal(bare.manifest.goldens.file, full.manifest.goldens.file);
    assert.deepEqual(bare.manifest.goldens.tensors, []);
    assert.equal(bare.manifest.goldens.training, undefined);
    assert.equal(bare.goldenBytes.length, 0);
  });

  it('does not check golden records it does not read; a load that reads them refuses them, naming the field', async () => {
    damageGoldenRecords();
    await loadBundle(dir, { goldens: false });
    await assert.rejects(loadBundle(dir), (e: unknown) => e instanceof InputError && /manifest\.json: field 'goldens\.tensors\[0\]\.shape'/.test(e.message));
  });
});
