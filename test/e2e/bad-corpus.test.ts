import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tf from '#tfjs';
import { modelDirectory } from '../../src/tfjs-io/model-directory.js';
import { CLI, REPO_ROOT } from '../support/paths.js';

/**
 * The bad-input corpus (scripts/bad_corpus/make_corpus.py): every broken or hostile file run
 * through the CLI as a user would, with the bounds docs/hostile-input.md promises. Each case must
 * end with its exit code and message, within TIME_BOUND_S and MEMORY_BOUND_MB, with no stack trace,
 * nothing written at OUT, nothing left in the working directory or TMPDIR, and no marker file
 * (a payload that ran would write it).
 */
const TIME_BOUND_S = 60;
/** Peak resident memory of the whole CLI process; converting the intact base files takes about 300 MB. */
const MEMORY_BOUND_MB = 1024;
const PYTHON = path.join(REPO_ROOT, '.venv', 'bin', 'python');
const GNU_TIME = '/usr/bin/time';
const CONCURRENCY = 2;

interface CorpusCase {
  name: string;
  category: string;
  file: string;
  commands: Array<'convert' | 'export'>;
  args: string[];
  exit: number;
  message: string;
  stdout?: string;
}

interface RunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
  maxRssMb?: number;
  workDir: string;
  out: string;
}

const corpusDir = mkdtempSync(path.join(os.tmpdir(), 'kb-bad-corpus-'));
const generated = spawnSync(PYTHON, [path.join(REPO_ROOT, 'scripts', 'bad_corpus', 'make_corpus.py'), corpusDir], { encoding: 'utf8', timeout: 600_000 });
if (generated.status !== 0) throw new Error(`make_corpus.py failed (${generated.status}):\n${generated.stderr.slice(-3000)}`);
const corpus = JSON.parse(readFileSync(path.join(corpusDir, 'cases.json'), 'utf8')) as { marker: string; cases: CorpusCase[] };
const marker = path.join(corpusDir, corpus.marker);
const measureMemory = existsSync(GNU_TIME);

function runCase(testCase: CorpusCase, command: 'convert' | 'export', index: number): Promise<RunResult> {
  const workDir = path.join(corpusDir, 'runs', `${index}-${command}`);
  const tmp = path.join(workDir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const out = path.join(workDir, 'out');
  const file = path.join(corpusDir, testCase.file);
  const cliArgs = command === 'convert' ? ['convert', file, out, ...testCase.args] : ['export', '--model', file, '--out', out, ...testCase.args];
  const argv = measureMemory ? [GNU_TIME, '-f', 'KB_MAX_RSS=%M', process.execPath, CLI, ...cliArgs] : [process.execPath, CLI, ...cliArgs];
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: workDir, env: { ...process.env, TMPDIR: tmp, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), (TIME_BOUND_S + 30) * 1000);
    child.on('close', (exitCode, signal) => {
      clearTimeout(killer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const rss = /KB_MAX_RSS=(\d+)\s*$/.exec(stderr);
      stderr = stderr.replace(/(Command exited with non-zero status \d+\n)?KB_MAX_RSS=\d+\s*$/, '');
      resolve({ exitCode, signal, stdout, stderr, seconds, ...(rss ? { maxRssMb: Number(rss[1]) / 1024 } : {}), workDir, out });
    });
  });
}

describe('bad-input corpus: every broken or hostile file gets its exit code and message, in bounded time and memory, leaving nothing', function () {
  this.timeout(1_800_000);
  const runs = corpus.cases.flatMap((testCase) => testCase.commands.map((command) => ({ testCase, command })));
  const results = new Map<string, RunResult>();
  const key = (testCase: CorpusCase, command: string) => `${command}: ${testCase.name}`;

  before(async () => {
    let next = 0;
    const worker = async () => {
      while (next < runs.length) {
        const index = next++;
        const { testCase, command } = runs[index]!;
        results.set(key(testCase, command), await runCase(testCase, command, index));
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  });

  after(() => {
    const measured = [...results.entries()];
    const slowest = measured.reduce((a, b) => (b[1].seconds > a[1].seconds ? b : a));
    const largest = measured.reduce((a, b) => ((b[1].maxRssMb ?? 0) > (a[1].maxRssMb ?? 0) ? b : a));
    console.log(`      corpus: ${measured.length} runs; slowest ${slowest[1].seconds.toFixed(1)} s (${slowest[0]}); peak memory ${largest[1].maxRssMb?.toFixed(0) ?? 'unmeasured'} MB (${largest[0]})`);
    rmSync(corpusDir, { recursive: true, force: true });
  });

  it(`holds at least 100 cases, covering every class of issue 12 (${corpus.cases.length} cases, ${runs.length} runs)`, () => {
    assert.ok(corpus.cases.length >= 100, `${corpus.cases.length} cases`);
    const categories = new Set(corpus.cases.map((c) => c.category));
    for (const category of ['baseline', 'hdf5', 'values', 'zip', 'config', 'graph', 'code']) assert.ok(categories.has(category), category);
  });

  for (const { testCase, command } of runs) {
    it(`${command}: ${testCase.name}`, async () => {
      const r = results.get(key(testCase, command))!;
      const context = `exit ${r.exitCode}${r.signal ? ` (${r.signal})` : ''}\nstderr: ${r.stderr.slice(0, 3000)}\nstdout: ${r.stdout.slice(0, 1000)}`;
      assert.equal(r.exitCode, testCase.exit, context);
      assert.doesNotMatch(r.stderr, /internal error|Traceback|\n\s+at .+:\d+:\d+\)?\n/, `no stack trace: ${context}`);
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(r.stderr + r.stdout, /[\u001b\u0007]/, 'no raw terminal control character from the file is printed');
      if (testCase.exit === 2) {
        assert.match(r.stderr, /keras-bridge: error: /, context);
        assert.match(r.stderr, new RegExp(testCase.message, 's'), context);
        // Short: the whole message, even for a 2 MB string or a 10,000-deep config.
        assert.ok(r.stderr.length < 20_000, `message of ${r.stderr.length} characters`);
        assert.ok(!existsSync(r.out), 'nothing written at OUT');
      } else {
        if (testCase.stdout) assert.match(r.stdout, new RegExp(testCase.stdout, 's'), context);
        if (command === 'convert') {
          // What was written loads with stock tf.loadLayersModel.
          const model = await tf.loadLayersModel(modelDirectory(r.out));
          model.dispose();
          rmSync(r.out, { recursive: true });
        }
      }
      assert.ok(r.seconds < TIME_BOUND_S, `took ${r.seconds.toFixed(1)} s (bound ${TIME_BOUND_S} s)`);
      if (r.maxRssMb !== undefined) assert.ok(r.maxRssMb < MEMORY_BOUND_MB, `peak memory ${r.maxRssMb.toFixed(0)} MB (bound ${MEMORY_BOUND_MB} MB)`);
      assert.deepEqual(readdirSync(r.workDir).sort(), ['tmp'], 'nothing left in the working directory');
      assert.deepEqual(readdirSync(path.join(r.workDir, 'tmp')), [], 'nothing left in TMPDIR');
      assert.ok(!existsSync(marker), 'no payload ran (its marker file is absent)');
    });
  }
});
