import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../src/errors.js';
import { SwishActivation } from '../../src/layers/seed/index.js';
import { compareTensors } from '../../src/parity/compare-tensors.js';
import { loadParityResults, parseParityResults } from '../../src/parity/load-results.js';
import type { ParityRun } from '../../src/parity/parity-result.js';
import { formatParityResults } from '../../src/parity/results-schema.js';
import { runParity } from '../../src/parity/run-parity.js';
import { registerLayer } from '../../src/registry/custom-layer-registry.js';
import { fixtureBundle, REPO_ROOT } from '../support/paths.js';

/** fixtures/results/parity-v1.json: what the v1 CLI wrote for swish (faulty Swish: fail) and dilated_conv (incomplete) on cpu. */
const V1 = path.join(REPO_ROOT, 'fixtures', 'results', 'parity-v1.json');

/** A saved document, edited freely by the tests. */
type Json = Record<string, any>;

describe('saved parity results: schema v2 and its loader', function () {
  this.timeout(120_000);
  let tmp: string;
  /** The same bundles as the v1 fixture, run now: swish fails, dilated_conv is incomplete. */
  let run: ParityRun;

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-results-'));
    (await import('../support/faulty-seed-layers.js')).registerWrongSwish();
    try {
      run = await runParity([fixtureBundle('swish'), fixtureBundle('dilated_conv')], { backends: ['cpu'], requireAllBackends: true });
    } finally {
      registerLayer('SwishActivation', SwishActivation);
    }
  });
  after(async () => rm(tmp, { recursive: true, force: true }));

  const save = async (name: string, document: unknown) => {
    const file = path.join(tmp, name);
    await writeFile(file, typeof document === 'string' ? document : JSON.stringify(document));
    return file;
  };
  const copy = (value: unknown): Json => JSON.parse(JSON.stringify(value)) as Json;

  it('a real run saved and loaded back is the same data, with outcome and no passed on the run, models and backends', async () => {
    assert.deepEqual(
      [run.outcome, ...run.models.map((m) => m.outcome)],
      ['fail', 'fail', 'incomplete'],
    );
    const text = formatParityResults(run);
    const saved = JSON.parse(text) as Json;
    assert.equal(saved['schemaVersion'], 2);
    for (const level of [saved, ...saved['models'], ...saved['models'].flatMap((m: Json) => m['backends'])]) assert.equal('passed' in level, false);
    assert.deepEqual(await loadParityResults(await save('run.json', text)), run);
  });

  it('keeps Infinity and NaN, which JSON lacks, as strings: a shape mismatch and a diverged loss survive the round trip', async () => {
    const changed = structuredClone(run);
    const swish = changed.models[0]!.backends[0]!;
    swish.tensors[0]!.comparison = compareTensors([1, 2], [2], [1], [1], { atol: 1e-6, rtol: 0 });
    swish.afterTraining!.optimizers[0]!.losses.tfjs = [0.5, NaN, -Infinity];
    const text = formatParityResults(changed);
    const saved = JSON.parse(text) as Json;
    assert.equal(saved['models'][0]['backends'][0]['tensors'][0]['comparison']['maxAbsError'], 'Infinity');
    assert.deepEqual(saved['models'][0]['backends'][0]['afterTraining']['optimizers'][0]['losses']['tfjs'], [0.5, 'NaN', '-Infinity']);
    const loaded = await loadParityResults(await save('non-finite.json', text));
    assert.equal(loaded.models[0]!.backends[0]!.tensors[0]!.comparison.maxAbsError, Infinity);
    assert.deepEqual(loaded, changed);
  });

  it('reads a v1 file the v1 CLI wrote: outcome kept, passed dropped, the same models, backends and tensors as a run today', async () => {
    const loaded = await loadParityResults(V1);
    assert.equal(loaded.schemaVersion, 2);
    assert.deepEqual([loaded.outcome, ...loaded.models.map((m) => m.outcome)], ['fail', 'fail', 'incomplete']);
    assert.equal('passed' in loaded || loaded.models.some((m) => 'passed' in m || m.backends.some((b) => 'passed' in b)), false);
    const labels = (r: ParityRun) => r.models.map((m) => [m.model, m.backends.map((b) => [b.backend, b.outcome, b.tensors.map((t) => `${t.label} ${t.comparison.passed}`)])]);
    assert.deepEqual(labels(loaded), labels(run));
  });

  it('upgrades a v1 file from before outcome and the later fields: outcome from passed, the fields null or []', async () => {
    const old = copy(JSON.parse(await readFile(V1, 'utf8')));
    // swish only: before `outcome`, a gradient tfjs could not compute stopped the run, so no result was incomplete.
    old['models'] = old['models'].slice(0, 1);
    const strip = (o: Json, fields: string[]) => fields.forEach((f) => delete o[f]);
    const tensorsOf = (b: Json): Json[] => [...b['tensors'], ...b['isolated']['tensors'], ...b['isolated']['gradients']['tensors'], ...(b['training']?.['tensors'] ?? []), ...(b['afterTraining']?.['optimizers'] ?? []).flatMap((o: Json) => o['tensors'])];
    strip(old, ['outcome']);
    for (const m of old['models']) {
      strip(m, ['outcome', 'conversionWarnings']);
      for (const b of m['backends']) {
        strip(b, ['outcome', 'gradientsNotCompared', 'firstDivergingLayerBackward']);
        if (b['training']) strip(b['training'], ['gradientsNotCompared', 'firstDivergingLayer', 'firstDivergingLayerBackward']);
        for (const t of tensorsOf(b)) strip(t, ['float64Error', 'kernelVariantError']);
      }
    }
    // JSON.stringify wrote Infinity as null.
    const first = old['models'][0]['backends'][0]['tensors'][0]['comparison'];
    Object.assign(first, { passed: false, maxAbsError: null, maxToleranceRatio: null, minPassingAtol: null });
    const loaded = await loadParityResults(await save('old-v1.json', old));
    const b = loaded.models[0]!.backends[0]!;
    assert.deepEqual([loaded.outcome, loaded.models[0]!.outcome, b.outcome], ['fail', 'fail', 'fail']);
    assert.deepEqual([loaded.models[0]!.conversionWarnings, b.gradientsNotCompared, b.firstDivergingLayerBackward], [[], null, null]);
    assert.deepEqual([b.tensors[1]!.float64Error, b.tensors[1]!.kernelVariantError], [null, null]);
    assert.deepEqual([b.tensors[0]!.comparison.maxAbsError, b.tensors[0]!.comparison.maxToleranceRatio], [Infinity, Infinity]);
    assert.equal(b.firstDivergingLayer, 'swish_activation');
  });

  /** A copy of the run as saved, changed by `edit`; the message must match `expected`. */
  const refused = async (name: string, edit: (saved: Json) => unknown, expected: RegExp) => {
    const file = await save(name, edit(copy(JSON.parse(formatParityResults(run)))) as object);
    await assert.rejects(loadParityResults(file), (e: Error) => {
      assert.ok(e instanceof InputError, e.stack);
      assert.ok(e.message.startsWith(file), e.message);
      assert.match(e.message, expected);
      return true;
    });
  };

  it('refuses a field of the wrong type or missing, naming the file and its JSON path', async () => {
    await refused('type.json', (r) => ((r['models'][0]['backends'][0]['tensors'][2]['comparison']['maxAbsError'] = 'large'), r), /field 'models\[0\]\.backends\[0\]\.tensors\[2\]\.comparison\.maxAbsError': expected a number/);
    await refused('missing.json', (r) => (delete r['models'][1]['conversionWarnings'], r), /field 'models\[1\]\.conversionWarnings': Required \(schema keras-bridge-parity v2\)/);
    await refused('outcome.json', (r) => ((r['models'][0]['backends'][0]['outcome'] = 'maybe'), r), /field 'models\[0\]\.backends\[0\]\.outcome': Invalid enum value/);
    await refused('count.json', (r) => ((r['models'][0]['backends'][0]['tensors'][0]['comparison']['mismatches'] = -1), r), /comparison\.mismatches': Number must be greater than or equal to 0/);
  });

  it('refuses an outcome its tensors contradict: an edited pass would exit 0', async () => {
    await refused('edited.json', (r) => ((r['models'][0]['backends'][0]['outcome'] = 'pass'), r), /field 'models\[0\]\.backends\[0\]\.outcome': 'pass', but its tensors make it 'fail'/);
    await refused('edited-model.json', (r) => ((r['models'][1]['outcome'] = 'pass'), r), /field 'models\[1\]\.outcome': 'pass', but its backends make it 'incomplete'/);
    await refused('edited-run.json', (r) => ((r['outcome'] = 'incomplete'), r), /field 'outcome': 'incomplete', but its models make it 'fail'/);
  });

  it('a section of a mode not registered here may make an outcome worse than the rest shows, never better', async () => {
    const section = (passed: boolean) => ({ tensors: [{ ...run.models[1]!.backends[0]!.tensors[0]!, label: 'weight as loaded', comparison: { ...run.models[1]!.backends[0]!.tensors[0]!.comparison, passed } }], notCompared: null });
    const worse = copy(JSON.parse(formatParityResults(run)));
    Object.assign(worse['models'][1]['backends'][0], { outcome: 'fail', modes: { 'weights-as-loaded': section(false) } });
    worse['models'][1]['outcome'] = 'fail';
    const loaded = await loadParityResults(await save('unregistered-mode.json', worse));
    assert.equal(loaded.models[1]!.backends[0]!.modes?.['weights-as-loaded']?.tensors[0]!.comparison.passed, false);
    await refused('unregistered-better.json', (r) => (Object.assign(r['models'][1]['backends'][0], { outcome: 'pass', modes: { 'weights-as-loaded': section(true) } }), r), /field 'models\[1\]\.backends\[0\]\.outcome': 'pass', but its tensors make it 'incomplete'/);
  });

  it('refuses other schemas and versions, non-JSON and hostile JSON', async () => {
    await refused('inspect.json', () => ({ schema: 'keras-bridge-inspect', schemaVersion: 1 }), /not keras-bridge parity results \(schema "keras-bridge-inspect"; expected schema 'keras-bridge-parity'/);
    await refused('array.json', () => [1, 2], /not keras-bridge parity results \(not a JSON object/);
    await refused('v3.json', (r) => ((r['schemaVersion'] = 3), r), /field 'schemaVersion': 3 is not a version this keras-bridge reads \(1 or 2\)/);
    await refused('proto.json', (r) => ((r['models'][0] = JSON.parse('{"__proto__": {"outcome": "pass"}}')), r), /field 'models\[0\]\.__proto__': the key '__proto__' is not allowed/);
    let deep: unknown = 0;
    for (let i = 0; i < 300; i++) deep = [deep];
    await refused('deep.json', (r) => ((r['unavailableBackends'] = deep), r), /nested deeper than 256 levels/);
    for (const [name, text, expected] of [
      ['empty.json', '', /not valid JSON/],
      ['truncated.json', formatParityResults(run).slice(0, 5000), /not valid JSON/],
    ] as const) {
      const file = await save(name, text);
      await assert.rejects(loadParityResults(file), (e: Error) => e instanceof InputError && e.message.startsWith(`${file}: `) && expected.test(e.message));
    }
  });

  it('refuses a missing file and a directory with an InputError naming them', async () => {
    const missing = path.join(tmp, 'absent.json');
    await assert.rejects(loadParityResults(missing), (e: Error) => e instanceof InputError && e.message === `${missing}: cannot read the results file (no such file).`);
    const dir = path.join(tmp, 'a-directory.json');
    await mkdir(dir);
    await assert.rejects(loadParityResults(dir), (e: Error) => e instanceof InputError && /a-directory\.json: not a results file \(a directory\)/.test(e.message));
    assert.throws(() => parseParityResults(null, 'stdin'), /^InputError: stdin: not keras-bridge parity results \(not a JSON object/);
  });
});
