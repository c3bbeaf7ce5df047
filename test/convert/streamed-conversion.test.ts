import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { convertSource, planSource } from '../../src/convert/convert-bundle.js';
import { readModelInput } from '../../src/cli/read-model-input.js';
import '../../src/layers/seed/index.js';
import { writeModelDirectory } from '../../src/tfjs-io/model-directory.js';
import { FIXTURE_BUNDLES, REPO_ROOT } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

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
