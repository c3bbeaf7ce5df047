import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { strToU8, unzipSync, zipSync, type Unzipped } from 'fflate';
import { REPO_ROOT } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';
import { concat, deflatedZeros, writeZip, zerosCrc32, zipLayout } from '../support/zip-bytes.js';

const SEED_LAYERS = ['--custom-layers', 'keras-bridge/layers/seed'];
const TEMPORAL = path.join(REPO_ROOT, 'fixtures', 'keras', 'temporal.keras');
const TEMPORAL_H5 = path.join(REPO_ROOT, 'fixtures', 'keras', 'temporal_keras2.h5');
const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

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

  describe('hostile archives (docs/hostile-input.md, "Zip archives (.keras)")', () => {
    /** temporal.keras with its config.json replaced by a deflate stream of 1 GiB of zeros, declared `size`. */
    async function configBomb(name: string, size: number, crc = 0): Promise<string> {
      const entries = unzipSync(readFileSync(TEMPORAL));
      const file = path.join(tmp, name);
      await writeFile(
        file,
        writeZip([
          { name: 'metadata.json', data: entries['metadata.json']! },
          { name: 'config.json', raw: deflatedZeros(1024), size, crc },
          { name: 'model.weights.h5', data: entries['model.weights.h5']! },
        ]),
      );
      return file;
    }

    it('a config.json inflating to 1 GiB is refused for its ratio before inflating, quickly', async () => {
      const file = await configBomb('bomb.keras', 1024 ** 3, zerosCrc32(1024));
      const started = Date.now();
      await convertFails(file, /bomb\.keras: zip entry 'config\.json': declares 1 GiB from [0-9.]+ MiB compressed \(ratio \d+\), over the 100 limit \(maxCompressionRatio, CLI --max-compression-ratio\)/);
      assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
      // Raised ratio: the JSON limit still holds, before anything is inflated.
      const r = await runCli(['convert', file, path.join(tmp, 'out'), ...SEED_LAYERS, '--max-compression-ratio', '1e9']);
      assert.equal(r.exitCode, 2, r.stderr);
      assert.match(r.stderr, /zip entry 'config\.json': declares 1 GiB uncompressed, over the 64 MiB limit \(maxJsonBytes, CLI --max-json-bytes\)/);
    });

    it('a config.json declaring 2 KB that inflates to 1 GiB stops at 2 KB', async () => {
      const file = await configBomb('small-bomb.keras', 2000);
      await convertFails(file, /small-bomb\.keras: zip entry 'config\.json': deflate data inflates past the 2000 bytes the central directory declares \(a zip bomb/);
    });

    it('the limit flags reach the reader, for convert and inspect, and bad values are usage errors', async () => {
      const json = await runCli(['convert', TEMPORAL, path.join(tmp, 'out'), ...SEED_LAYERS, '--max-json-bytes', '1KiB']);
      assert.equal(json.exitCode, 2, json.stderr);
      assert.match(json.stderr, /temporal\.keras: zip entry 'config\.json': declares [0-9.]+ KiB uncompressed, over the 1 KiB limit \(maxJsonBytes, CLI --max-json-bytes\)/);
      const entries = await runCli(['inspect', TEMPORAL, ...SEED_LAYERS, '--max-zip-entries', '2']);
      assert.equal(entries.exitCode, 2, entries.stderr);
      assert.match(entries.stderr, /temporal\.keras: the zip end record counts 3 entries, over the 2 limit \(maxEntries, CLI --max-zip-entries\)/);
      const bad = await runCli(['convert', TEMPORAL, path.join(tmp, 'out'), '--max-uncompressed-bytes', '4 gigs']);
      assert.equal(bad.exitCode, 2, bad.stderr);
      assert.match(bad.stderr, /--max-uncompressed-bytes must be a size such as 500000000, 512MiB or 4GiB, got '4 gigs'/);
      const raised = await runCli(['inspect', TEMPORAL, ...SEED_LAYERS, '--max-entry-bytes', '1MiB', '--max-compression-ratio', '2.5']);
      assert.equal(raised.exitCode, 0, raised.stderr);
      assert.deepEqual(await readdir(tmp), []);
    });

    it('an HDF5 model with a zip appended (Keras would read the zip) is refused', async () => {
      const file = path.join(tmp, 'polyglot.h5');
      await writeFile(file, concat([readFileSync(TEMPORAL_H5), readFileSync(TEMPORAL)]));
      await convertFails(file, /polyglot\.h5: both an HDF5 file and a zip archive \(HDF5 signature at byte 0, zip end record at byte \d+\)/);
    });

    it('a zip carrying an HDF5 signature where the HDF5 library looks for one is refused', async () => {
      const entries = unzipSync(readFileSync(TEMPORAL));
      const pad = new Uint8Array(1024);
      pad.set(HDF5_MAGIC, 512 - (30 + 'pad'.length)); // the entry's data starts after its 30-byte header and name
      const file = path.join(tmp, 'polyglot.keras');
      await writeFile(file, zipSync({ pad, ...entries }, { level: 0 }));
      await convertFails(file, /polyglot\.keras: both an HDF5 file and a zip archive \(HDF5 signature at byte 512, zip end record at byte \d+\)/);
    });

    it('but not the stored model.weights.h5 itself landing on a power of two', async () => {
      const entries = unzipSync(readFileSync(TEMPORAL));
      const config = new TextDecoder().decode(entries['config.json']);
      const before = (configLength: number) => 30 + 'metadata.json'.length + entries['metadata.json']!.length + 30 + 'config.json'.length + configLength + 30 + 'model.weights.h5'.length;
      const target = 2 ** Math.ceil(Math.log2(before(config.length)));
      entries['config.json'] = strToU8(config + ' '.repeat(target - before(config.length)));
      const bytes = zipSync({ 'metadata.json': entries['metadata.json']!, 'config.json': entries['config.json'], 'model.weights.h5': entries['model.weights.h5']! }, { level: 0 });
      assert.equal(zipLayout(bytes).entries[2]!.dataStart, target);
      const file = path.join(tmp, 'aligned.keras');
      await writeFile(file, bytes);
      const r = await runCli(['convert', file, path.join(tmp, 'converted'), ...SEED_LAYERS]);
      assert.equal(r.exitCode, 0, r.stderr);
    });
  });
});
