import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fixtureBundle } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

const FAULTY = ['--custom-layers', 'dist/test/support/faulty-seed-layers.js'];
const SEED = ['--custom-layers', 'keras-bridge/layers/seed'];

describe('parity for CI: JUnit, shards, tolerance files', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-ci-'));
  });
  afterEach(async () => rm(tmp, { recursive: true, force: true }));

  it('--junit writes one test case per model × backend × tensor group, failures carrying the localized message', async () => {
    const junit = path.join(tmp, 'parity.xml');
    const r = await runCli(['parity', fixtureBundle('swish'), fixtureBundle('temporal'), '--backend', 'cpu', '--junit', junit, ...FAULTY]);
    assert.equal(r.exitCode, 1);
    const xml = await readFile(junit, 'utf8');
    // 6 groups, then after 3 training steps: SGD, KerasAdam, and tfjs's Adam as a skipped (not counted) case.
    assert.equal((xml.match(/<testcase /g) ?? []).length, 20);
    assert.match(xml, /<testsuite name="keras-bridge parity: swish" tests="10" failures="9" skipped="1"/);
    assert.match(xml, /<testsuite name="keras-bridge parity: temporal" tests="10" failures="0" skipped="1"/);
    // The faulty Swish computes another function, so its backward pass alone differs from Keras's too.
    assert.match(xml, /name="cpu › backward pass, each layer alone \(\d+ tensors\)" time="[\d.]+">\s*<failure/);
    assert.match(xml, /swish on cpu: first diverging layer is &apos;swish_activation&apos;/);
  });

  it('--shard i/n splits the (bundle × backend) pairs so that the shards together cover each exactly once', async () => {
    const labels = async (shard: string) => {
      const json = path.join(tmp, `${shard.replace('/', '-')}.json`);
      const r = await runCli(['parity', fixtureBundle('swish'), fixtureBundle('temporal'), '--backend', 'cpu,wasm', '--shard', shard, '--json', json, ...SEED]);
      assert.equal(r.exitCode, 0, r.stderr);
      const run = JSON.parse(await readFile(json, 'utf8')) as { models: Array<{ model: string; backends: Array<{ backend: string }> }> };
      return run.models.flatMap((m) => m.backends.map((b) => `${m.model}/${b.backend}`));
    };
    const [one, two, three] = [await labels('1/3'), await labels('2/3'), await labels('3/3')];
    assert.deepEqual([...one, ...two, ...three].sort(), ['swish/cpu', 'swish/wasm', 'temporal/cpu', 'temporal/wasm']);
    assert.ok(one.length > 0 && two.length > 0 && three.length > 0);
    assert.equal((await runCli(['parity', fixtureBundle('swish'), '--shard', '4/3', ...SEED])).exitCode, 2);
  });

  it('--tolerances overrides one layer: the faulty layer then passes while what it feeds still fails', async () => {
    const file = path.join(tmp, 'tolerances.json');
    await writeFile(file, JSON.stringify({ layers: { swish_activation: { atol: 1, rtol: 0 } } }));
    const r = await runCli(['parity', fixtureBundle('swish'), '--backend', 'cpu', '--tolerances', file, ...FAULTY]);
    assert.equal(r.exitCode, 1);
    assert.match(r.stdout, /layer swish_activation\s+cpu .*atol 1\.0e\+0 rtol 0 +pass/);
    assert.match(r.stdout, /layer dense_1\s+cpu.*FAIL/);
  });

  it('a tolerance file with a wrong field is refused, naming the file and the field', async () => {
    const file = path.join(tmp, 'tolerances.json');
    await writeFile(file, JSON.stringify({ backends: { cpu: { atol: -1, rtol: 0 } } }));
    const r = await runCli(['parity', fixtureBundle('swish'), '--tolerances', file, ...SEED]);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /tolerances\.json: field 'backends\.cpu\.atol'/);
  });
});
