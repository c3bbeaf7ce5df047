import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { convertSource, planSource } from '../../src/convert/convert-bundle.js';
import { readModelInput } from '../../src/cli/read-model-input.js';
import '../../src/layers/seed/index.js';
import { writeModelDirectory } from '../../src/tfjs-io/model-directory.js';
import { FIXTURE_BUNDLES, REPO_ROOT } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';
import { patchEntry, zipLayout } from '../support/zip-bytes.js';
import { tableCrc32 } from '../../src/keras/keras-file/zip/crc32.js';
import type { ConversionReport } from '../../src/convert/conversion-report.js';

const KERAS_FIXTURES = path.join(REPO_ROOT, 'fixtures', 'keras');
const MODELS = [
  ...readdirSync(KERAS_FIXTURES).filter((f) => /\.(keras|h5)$/.test(f)).sort().map((f) => path.join(KERAS_FIXTURES, f)),
  ...readdirSync(FIXTURE_BUNDLES).sort().map((b) => path.join(FIXTURE_BUNDLES, b)).filter((dir) => existsSync(path.join(dir, 'manifest.json'))),
];

interface Outcome {
  error?: string;
  specs?: unknown;
  bytes?: Buffer;
  report?: unknown;
}

/** What the in-memory conversion (parity's, demo's) gives. */
async function inMemory(model: string): Promise<Outcome> {
  try {
    const converted = await convertSource(await readModelInput(model));
    return { specs: converted.weightSpecs, bytes: Buffer.from(converted.weightData), report: converted.report };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** What `convert` writes: the weights streamed from the model file into the shards. */
async function streamed(model: string, dir: string): Promise<Outcome> {
  let input: Awaited<ReturnType<typeof readModelInput>> | undefined;
  try {
    input = await readModelInput(model, { lazyWeights: true });
    const { report } = await writeModelDirectory(dir, await planSource(input));
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[]; weights: unknown }[] };
    const [group] = json.weightsManifest;
    return { specs: group!.weights, bytes: Buffer.concat(group!.paths.map((p) => readFileSync(path.join(dir, p)))), report };
  } catch (e) {
    return { error: (e as Error).message };
  } finally {
    await input?.close?.();
  }
}

describe('conversion streamed from the model file to the shards', () => {
  let tmp: string;
  before(async () => (tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-streamed-'))));
  after(async () => rm(tmp, { recursive: true, force: true }));

  for (const model of MODELS) {
    const name = path.relative(REPO_ROOT, model);
    it(`${name}: the same weights, manifest, report (or error) as the conversion in memory`, async () => {
      const expected = await inMemory(model);
      const actual = await streamed(model, path.join(tmp, name.replace(/[/.]/g, '_')));
      assert.equal(actual.error, expected.error);
      if (expected.error) return;
      assert.deepEqual(actual.specs, expected.specs);
      assert.ok(actual.bytes!.equals(expected.bytes!), `${name}: shard bytes differ from the in-memory weights`);
      assert.deepEqual(actual.report, expected.report);
    });
  }

  it('weights the HDF5 reader writes to the shards itself: NaN and ±Inf found and counted as in memory, and refused alike', async () => {
    // two_branch.keras with two values of one weight set to NaN and +Inf and one of another to -Inf,
    // its zip entry's CRC-32 made right again.
    const original = path.join(KERAS_FIXTURES, 'two_branch.keras');
    const zip = new Uint8Array(readFileSync(original));
    const source = await readModelInput(original);
    const stored = await Promise.all(source.weights.map(async (w) => ({ layer: w.layer, path: w.path, bytes: await w.data.read() })));
    await source.close?.();
    // Weights of varied values (a bias of zeros would be found in HDF5's own bytes first).
    const varied = stored.filter((w) => new Set(new Float32Array(w.bytes.slice().buffer)).size > 4);
    const place = (bytes: Uint8Array) => Buffer.from(zip).indexOf(Buffer.from(bytes));
    const at = [place(varied[0]!.bytes), place(varied[1]!.bytes)];
    assert.ok(at.every((a) => a > 0), 'the weights lie as they are in the zip');
    const bits = new DataView(zip.buffer);
    bits.setFloat32(at[0]! + 4, NaN, true);
    bits.setFloat32(at[0]! + 40, Infinity, true);
    bits.setFloat32(at[1]!, -Infinity, true);
    const entry = zipLayout(zip).entries.findIndex((e) => e.name === 'model.weights.h5');
    const { dataStart, compressedSize } = zipLayout(zip).entries[entry]!;
    const model = path.join(tmp, 'non-finite.keras');
    writeFileSync(model, patchEntry(zip, entry, 'crc', tableCrc32(zip.subarray(dataStart, dataStart + compressedSize))));

    const expected = await inMemory(model);
    assert.equal(expected.error, undefined);
    assert.deepEqual((expected.report as ConversionReport).nonFiniteWeights?.map((w) => [w.nan, w.infinite]), [
      [1, 1],
      [0, 1],
    ]);
    const input = await readModelInput(model, { lazyWeights: true });
    let copies = 0;
    for (const w of input.weights) {
      const copyTo = w.data.copyTo!.bind(w.data);
      (w.data as { copyTo: typeof copyTo }).copyTo = (ranges) => (copies++, copyTo(ranges));
    }
    const dir = path.join(tmp, 'non-finite');
    try {
      const { report } = await writeModelDirectory(dir, await planSource(input));
      assert.equal(copies, input.weights.length, 'every weight written by the reader');
      assert.deepEqual(report, expected.report);
      const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
      assert.ok(Buffer.concat(json.weightsManifest[0]!.paths.map((p) => readFileSync(path.join(dir, p)))).equals(expected.bytes!));
      await assert.rejects(
        writeModelDirectory(path.join(tmp, 'non-finite-refused'), await planSource(input, { refuseNonFiniteWeights: true })),
        /holds 1 NaN and 1 infinite values .*\(and 1 more weights\); refused \(--refuse-non-finite-weights\)/,
      );
      assert.equal(existsSync(path.join(tmp, 'non-finite-refused')), false);
    } finally {
      await input.close?.();
    }
  });

  it("a bundle's weights copied from weights.bin to the shards: NaN found and counted as in memory; a truncated weights.bin named", async () => {
    const bundle = path.join(FIXTURE_BUNDLES, readdirSync(FIXTURE_BUNDLES).sort().find((b) => existsSync(path.join(FIXTURE_BUNDLES, b, 'manifest.json')))!);
    const copy = path.join(tmp, 'nan-bundle');
    cpSync(bundle, copy, { recursive: true });
    const manifest = JSON.parse(readFileSync(path.join(copy, 'manifest.json'), 'utf8')) as { weights: { path: string; dtype: string; offset: number; byte_length: number }[] };
    const target = manifest.weights.find((w) => w.dtype === 'float32' && w.byte_length >= 8)!;
    const weightsBin = new Uint8Array(readFileSync(path.join(copy, 'weights.bin')));
    new DataView(weightsBin.buffer).setFloat32(target.offset + 4, NaN, true);
    writeFileSync(path.join(copy, 'weights.bin'), weightsBin);
    const expected = await inMemory(copy);
    assert.equal((expected.report as ConversionReport).nonFiniteWeights?.length, 1);
    const input = await readModelInput(copy, { lazyWeights: true });
    let copies = 0;
    for (const w of input.weights) {
      const copyTo = w.data.copyTo!.bind(w.data);
      (w.data as { copyTo: typeof copyTo }).copyTo = (ranges) => (copies++, copyTo(ranges));
    }
    try {
      const { report } = await writeModelDirectory(path.join(tmp, 'nan-bundle-out'), await planSource(input));
      assert.ok(copies > 0, 'weights copied from weights.bin');
      assert.deepEqual(report, expected.report);
    } finally {
      await input.close?.();
    }
    const last = manifest.weights.reduce((a, w) => (w.offset > a.offset ? w : a));
    writeFileSync(path.join(copy, 'weights.bin'), weightsBin.subarray(0, last.offset + last.byte_length - 4));
    const truncated = await streamed(copy, path.join(tmp, 'truncated-bundle-out'));
    assert.match(truncated.error ?? 'no error', new RegExp(`weight '${last.path}' ends at byte ${last.offset + last.byte_length}, past the end of the file.*The file is truncated\\.`));
  });

  it('keras-bridge convert of a .keras file writes what the conversion in memory holds', async () => {
    const model = path.join(KERAS_FIXTURES, 'recurrent.keras');
    const out = path.join(tmp, 'cli-recurrent');
    const result = await runCli(['convert', model, out]);
    assert.equal(result.exitCode, 0, result.stderr);
    const expected = await inMemory(model);
    const json = JSON.parse(readFileSync(path.join(out, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
    const bytes = Buffer.concat(json.weightsManifest[0]!.paths.map((p) => readFileSync(path.join(out, p))));
    assert.ok(bytes.equals(expected.bytes!));
    assert.deepEqual(JSON.parse(readFileSync(path.join(out, 'conversion-report.json'), 'utf8')), expected.report);
  });
});
