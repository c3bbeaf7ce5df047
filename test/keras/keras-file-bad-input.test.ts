import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { strToU8, unzipSync, zipSync, type Unzipped } from 'fflate';
import { REPO_ROOT } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

const SEED_LAYERS = ['--custom-layers', 'keras-bridge/layers/seed'];
const TEMPORAL = path.join(REPO_ROOT, 'fixtures', 'keras', 'temporal.keras');

describe('convert MODEL.keras: bad files give exit 2, name what is wrong, write nothing', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-bad-keras-'));
  });
  afterEach(async () => rm(tmp, { recursive: true, force: true }));

  /** temporal.keras with its entries edited, written to tmp/<name>. */
  async function editedArchive(name: string, edit: (entries: Unzipped) => void): Promise<string> {
    const entries = unzipSync(readFileSync(TEMPORAL));
    edit(entries);
    const file = path.join(tmp, name);
    await writeFile(file, zipSync(entries, { level: 0 }));
    return file;
  }

  async function convertFails(file: string, message: RegExp): Promise<void> {
    const out = path.join(tmp, 'converted');
    const r = await runCli(['convert', file, out, ...SEED_LAYERS]);
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.deepEqual(await readdir(tmp), [path.basename(file)], 'no output or temporary directory is left');
  }

  it('converts the intact file (the baseline the edits below break)', async () => {
    const r = await runCli(['convert', TEMPORAL, path.join(tmp, 'converted'), ...SEED_LAYERS]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual((await readdir(path.join(tmp, 'converted'))).sort(), ['conversion-report.json', 'group1-shard1of1.bin', 'model.json']);
  });

  it('a truncated zip', async () => {
    const file = path.join(tmp, 'truncated.keras');
    await writeFile(file, readFileSync(TEMPORAL).subarray(0, 5000));
    await convertFails(file, /truncated\.keras: not a readable \.keras \(zip\) file: .*truncated/);
  });

  it('a config.json that is not JSON', async () => {
    const file = await editedArchive('bad-json.keras', (e) => {
      e['config.json'] = strToU8('{"module": "keras", "class_name": ');
    });
    await convertFails(file, /bad-json\.keras: config\.json: not valid JSON/);
  });

  it("a config.json that is not Keras's serialized-object form names the field", async () => {
    const file = await editedArchive('not-serialized.keras', (e) => {
      e['config.json'] = strToU8(JSON.stringify({ name: 'sequential', layers: [] }));
    });
    await convertFails(file, /not-serialized\.keras: config\.json: field 'class_name': Required; expected Keras's serialized-object form/);
  });

  it('no model.weights.h5 in the archive', async () => {
    const file = await editedArchive('no-weights.keras', (e) => {
      delete e['model.weights.h5'];
    });
    await convertFails(file, /no-weights\.keras: the \.keras archive has no 'model\.weights\.h5' \(it holds: .*config\.json.*\)/);
  });

  it('a damaged byte inside the stored model.weights.h5 is caught by its CRC-32', async () => {
    const bytes = new Uint8Array(readFileSync(TEMPORAL));
    const h5Start = Buffer.from(bytes).indexOf(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]));
    bytes[h5Start + 3000]! ^= 0xff;
    const file = path.join(tmp, 'bitrot.keras');
    await writeFile(file, bytes);
    await convertFails(file, /bitrot\.keras: zip entry 'model\.weights\.h5': CRC-32 [0-9a-f]{8} of its bytes disagrees with the [0-9a-f]{8} the archive records: the entry is damaged/);
  });

  it('a model.weights.h5 that is not HDF5', async () => {
    const file = await editedArchive('corrupt-h5.keras', (e) => {
      e['model.weights.h5'] = strToU8('garbage');
    });
    await convertFails(file, /corrupt-h5\.keras: model\.weights\.h5: not a readable HDF5 file \(.*signature/);
  });

  it('a weight whose shape does not match the config names the file, layer, weight and both shapes', async () => {
    const file = await editedArchive('wrong-units.keras', (e) => {
      const config = JSON.parse(new TextDecoder().decode(e['config.json']));
      config.config.layers.find((l: { class_name: string }) => l.class_name === 'TemporalWeighting').config.units = 6;
      e['config.json'] = strToU8(JSON.stringify(config));
    });
    await convertFails(
      file,
      /wrong-units\.keras: layer 'temporal_weighting', weight 'vars\/0' \(layers\/temporal_weighting\/vars\/0\) has shape \[10, 5\] in Keras but tfjs expects \[10, 6\]/,
    );
  });

  it('a path that does not exist', async () => {
    const r = await runCli(['convert', path.join(tmp, 'nope.keras'), path.join(tmp, 'out')]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /nope\.keras: no such file or directory \(expected a bundle directory, a \.keras file or an \.h5 file\)/);
    assert.deepEqual(await readdir(tmp), []);
  });
});
