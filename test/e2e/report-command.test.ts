import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fixtureBundle, REPO_ROOT } from '../support/paths.js';
import { runCli, type CliResult } from '../support/run-cli.js';

const FAULTY = ['--custom-layers', 'dist/test/support/faulty-seed-layers.js'];
const SEED = ['--custom-layers', 'keras-bridge/layers/seed'];
const V1 = path.join(REPO_ROOT, 'fixtures', 'results', 'parity-v1.json');

describe('keras-bridge report: saved results rendered again', function () {
  this.timeout(300_000);
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-report-'));
  });
  after(async () => rm(tmp, { recursive: true, force: true }));

  /** `parity` with --json, --junit and --html into tmp/NAME.*, then `report` of its JSON into tmp/NAME-again.* (every format). */
  async function parityThenReport(name: string, args: string[]): Promise<{ parity: CliResult; report: CliResult; file: (suffix: string) => string }> {
    const file = (suffix: string) => path.join(tmp, `${name}${suffix}`);
    const parity = await runCli(['parity', ...args, '--backend', 'cpu', '--json', file('.json'), '--junit', file('.xml'), '--html', file('.html')]);
    const report = await runCli(['report', file('.json'), '--junit', file('-again.xml'), '--html', file('-again.html'), '--json', file('-again.json')]);
    return { parity, report, file };
  }

  for (const [name, args, exitCode] of [
    ['pass', [fixtureBundle('swish'), ...SEED], 0],
    ['fail', [fixtureBundle('swish'), fixtureBundle('dilated_conv'), ...FAULTY], 1],
    ['incomplete', [fixtureBundle('dilated_conv')], 3],
  ] as const) {
    it(`reproduces the table, the JUnit, HTML and JSON bytes and the exit code (${exitCode}) of a run that is ${name}`, async () => {
      const { parity, report, file } = await parityThenReport(name, [...args]);
      assert.equal(parity.exitCode, exitCode, parity.stderr);
      assert.equal(report.exitCode, exitCode, report.stderr);
      assert.equal(report.stdout, parity.stdout);
      assert.equal(report.stderr, '');
      assert.ok((await readFile(file('.xml'))).equals(await readFile(file('-again.xml'))), 'JUnit bytes');
      assert.ok((await readFile(file('.html'))).equals(await readFile(file('-again.html'))), 'HTML bytes');
      assert.ok((await readFile(file('.json'))).equals(await readFile(file('-again.json'))), 'JSON bytes');
    });
  }

  it('renders a v1 file (the v1 CLI wrote it): the same failures, exit 1, HTML and JUnit written', async () => {
    const [xml, html] = [path.join(tmp, 'v1.xml'), path.join(tmp, 'v1.html')];
    const r = await runCli(['report', V1, '--junit', xml, '--html', html]);
    assert.equal(r.exitCode, 1, r.stderr);
    assert.match(r.stdout, /swish on cpu: first diverging layer is 'swish_activation'/);
    assert.match(r.stdout, /dilated_conv on cpu, gradients \(inputs, weights, layer outputs\): NOT compared: tfjs cannot differentiate conv2D/);
    assert.match(r.stdout, /\nparity: 18 of \d+ tensors FAIL$/);
    assert.match(await readFile(xml, 'utf8'), /<testsuite name="keras-bridge parity: swish" tests="\d+" failures="9"/);
    assert.match(await readFile(html, 'utf8'), /<h1>keras-bridge parity: <span class="fail">FAIL<\/span><\/h1>/);
  });

  it('--compare lists per model and backend what changed from a baseline, and exits as the results do', async () => {
    const fail = path.join(tmp, 'fail.json'); // written by the 'fail' case above
    const pass = path.join(tmp, 'pass.json');
    const r = await runCli(['report', pass, '--compare', fail]);
    assert.equal(r.exitCode, 0, r.stderr);
    const comparison = r.stdout.slice(r.stdout.indexOf(`changes from ${fail} to ${pass}:`));
    assert.match(comparison, /^ {2}swish on cpu: fail -> pass; worst error\/tolerance \S+e\+3 -> \S+e-\d; now passing: output 0 \(dense_1\) \[end-to-end\], layer swish_activation \[end-to-end\], .* and \d+ more$/m);
    assert.match(comparison, /^ {2}dilated_conv on cpu: only in .*fail\.json \(incomplete\)$/m);
    assert.match(comparison, /^compare: 2 model × backend pairs; 1 changed outcome \(0 worse, 1 better\); 1 in one run only$/m);
    const back = await runCli(['report', fail, '--compare', pass]);
    assert.equal(back.exitCode, 1);
    assert.match(back.stdout, /^ {2}swish on cpu: pass -> fail; .*now failing: output 0 \(dense_1\) \[end-to-end\]/m);
    const same = await runCli(['report', V1, '--compare', fail]);
    assert.match(same.stdout, /^ {2}swish on cpu: fail; worst error\/tolerance (\S+) -> \1$/m);
    assert.match(same.stdout, /compare: 2 model × backend pairs; no outcome changed$/);
  });

  it('prints no control character from the file: a hostile backend name is shown escaped', async () => {
    const saved = JSON.parse(await readFile(V1, 'utf8')) as { models: Array<{ backends: Array<{ backend: string; gradientsNotCompared: string | null }> }> };
    saved.models[0]!.backends[0]!.backend = 'cpu\u001b]0;owned\u0007';
    saved.models[1]!.backends[0]!.gradientsNotCompared = 'reason \u202e spoofed';
    const hostile = path.join(tmp, 'hostile.json');
    await writeFile(hostile, JSON.stringify(saved));
    const r = await runCli(['report', hostile, '--compare', V1]);
    assert.equal(r.exitCode, 1, r.stderr);
    assert.match(r.stdout, /swish on cpu\\u001b\]0;owned\\u0007: first diverging layer/);
    assert.match(r.stdout, /reason \\u202e spoofed/);
    assert.match(r.stdout, /^ {2}swish on cpu\\u001b\]0;owned\\u0007: only in /m);
    assert.doesNotMatch(r.stdout, /[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
  });

  it('refuses bad results files and usage with exit 2 and a message naming the file and the field', async () => {
    const saved = JSON.parse(await readFile(V1, 'utf8')) as { models: Array<{ backends: Array<{ tensors: Array<{ comparison: Record<string, unknown> }> }> }> };
    saved.models[0]!.backends[0]!.tensors[3]!.comparison['shape'] = 'big';
    const wrongField = path.join(tmp, 'wrong-field.json');
    await writeFile(wrongField, JSON.stringify(saved));
    const notJson = path.join(tmp, 'not.json');
    await writeFile(notJson, '{"schema": "keras-bridge-parity",');
    const table = path.join(tmp, 'table.txt');
    await writeFile(table, 'parity: 3 tensors compared, all pass\n');
    for (const [args, expected] of [
      [['report', wrongField], /wrong-field\.json: field 'models\[0\]\.backends\[0\]\.tensors\[3\]\.comparison\.shape': Expected array, received string \(schema keras-bridge-parity v1\)/],
      [['report', notJson], /not\.json: not valid JSON/],
      [['report', table], /table\.txt: not valid JSON/],
      [['report', path.join(tmp, 'absent.json')], /absent\.json: cannot read the results file \(no such file\)/],
      [['report', tmp], /not a results file \(a directory\)/],
      [['report', V1, '--compare', notJson], /not\.json: not valid JSON/],
      [['report', V1, '--html', V1], /--html .*parity-v1\.json: refusing to write there: it is the input/],
      [['report'], /give exactly one RESULTS\.json/],
      [['report', V1, V1], /give exactly one RESULTS\.json/],
      [['report', V1, '--json', V1], /--json .*parity-v1\.json: refusing to write there: it is the input/],
      [['report', V1, '--xml', 'x.xml'], /keras-bridge report: Unknown option '--xml'/],
    ] as const) {
      const r = await runCli([...args]);
      assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, expected, args.join(' '));
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, 'no stack trace for bad input');
    }
    assert.equal(JSON.parse(await readFile(V1, 'utf8')).schemaVersion, 1, 'the input is never rewritten');
  });
});
