import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EXIT } from '../../src/exit-codes.js';
import { boundedTail, escapeControls } from '../../src/python-export/python-exporter.js';
import { REPO_ROOT } from '../support/paths.js';
import { runCli } from '../support/run-cli.js';

// Fake interpreters: shell scripts that answer keras-bridge's version check (`python -c PROBE`)
// as a given Python would, then misbehave on the export itself.
const GOOD_PROBE = '{"python": [3, 11, 7], "keras": "3.15.1", "keras_bridge": true}';

describe('python-exporter: a wrong, crashing or hanging Python is a clear error (exit 2)', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-py-'));
  });
  afterEach(async () => rm(tmp, { recursive: true, force: true }));

  async function fakePython(probe: string, onExport: string): Promise<string> {
    const file = path.join(tmp, 'python');
    await writeFile(file, `#!/bin/sh\nif [ "$1" = "-c" ]; then echo '${probe}'; exit 0; fi\n${onExport}\n`);
    await chmod(file, 0o755);
    return file;
  }

  async function exportWith(python: string, ...extra: string[]) {
    const out = path.join(tmp, 'bundle');
    const r = await runCli(['export', '--out', out, '--factory', 'seed_models:swish_model', '--path', 'fixtures/seed', '--python', python, ...extra]);
    assert.equal(r.exitCode, 2, r.stderr);
    assert.ok(!(await readdir(tmp)).includes('bundle'));
    return r.stderr;
  }

  it('an old Python is named with the fix, before any export runs', async () => {
    const marker = path.join(tmp, 'EXPORT-RAN');
    const python = await fakePython('{"python": [3, 8, 18], "keras": "3.15.1", "keras_bridge": true}', `touch ${marker}`);
    const stderr = await exportWith(python);
    assert.match(stderr, /python is Python 3\.8\.18; keras_bridge needs Python 3\.11 or newer\. Run 'npm run setup'.*--python/);
    assert.ok(!(await readdir(tmp)).includes('EXPORT-RAN'));
  });

  it('a program that is not a working Python (/bin/false)', async () => {
    const stderr = await exportWith('/bin/false');
    assert.match(stderr, /\/bin\/false is not a working Python: a version check exited with code 1\nRun 'npm run setup'/);
  });

  it('a program that prints something else than the version check', async () => {
    const stderr = await exportWith(await fakePython('Python 3.8.10', 'exit 0'));
    assert.match(stderr, /is not a Python keras-bridge can use: its version check printed \n {2}Python 3\.8\.10\nRun 'npm run setup'/);
  });

  it('Keras missing, Keras 2, keras_bridge missing', async () => {
    assert.match(await exportWith(await fakePython('{"python": [3, 11, 7], "keras": null, "keras_bridge": true}', 'exit 0')), /has no Keras installed\. Run 'npm run setup'/);
    assert.match(await exportWith(await fakePython('{"python": [3, 11, 7], "keras": "2.15.0", "keras_bridge": true}', 'exit 0')), /has Keras 2\.15\.0; keras_bridge needs Keras 3\. Run 'npm run setup'/);
    assert.match(await exportWith(await fakePython('{"python": [3, 11, 7], "keras": "3.15.1", "keras_bridge": false}', 'exit 0')), /has Keras 3\.15\.1 but not the keras_bridge package\. Run 'npm run setup'/);
  });

  it('a Python that crashes (SIGSEGV) is reported with its last output', async () => {
    const python = await fakePython(GOOD_PROBE, 'echo "loading the model" >&2\necho "about to crash" >&2\nkill -SEGV $$');
    const stderr = await exportWith(python);
    assert.match(stderr, /the Python exporter crashed \(killed by SIGSEGV; .*python\); its last output:\n {2}loading the model\n {2}about to crash/);
  });

  it('a Python that hangs is stopped at --timeout', async () => {
    const python = await fakePython(GOOD_PROBE, 'echo "started" >&2\nexec sleep 60');
    const start = Date.now();
    const stderr = await exportWith(python, '--timeout', '2');
    assert.ok(Date.now() - start < 30_000, `took ${Date.now() - start} ms`);
    assert.match(stderr, /the Python exporter timed out after 2 s and was stopped \(raise the limit with --timeout SECONDS\); its last output:\n {2}started/);
  });

  it("a Python exporter stopped by SIGTERM keeps the table's code for it (143), not input_error", async () => {
    const python = await fakePython(GOOD_PROBE, 'echo "keras-bridge export: error: interrupted by SIGTERM; nothing written" >&2\nexit 143');
    const r = await runCli(['export', '--out', path.join(tmp, 'bundle'), '--factory', 'seed_models:swish_model', '--python', python]);
    assert.equal(r.exitCode, EXIT.interrupted_by_sigterm, r.stderr);
    assert.match(r.stderr, /export: the Python exporter was interrupted by SIGTERM; nothing written/);
  });

  it('a failing Python that floods stderr with escape sequences: the message is bounded and escaped', async () => {
    const python = await fakePython(GOOD_PROBE, `i=0; while [ $i -lt 3000 ]; do printf 'noise \\033[2J line %s %0200d\\n' $i 0 >&2; i=$((i+1)); done; exit 3`);
    const stderr = await exportWith(python);
    const message = stderr.slice(stderr.indexOf('export: Python exporter exited with code 3'));
    assert.match(message, /^export: Python exporter exited with code 3, not one of keras_bridge's exit codes \(its interpreter failed before the exporter ran\):\n {2}\(earlier output left out\)/);
    assert.ok(Buffer.byteLength(message) < 9 * 1024, `${Buffer.byteLength(message)} bytes`);
    assert.ok(!message.includes('\x1b'));
    assert.match(message, /noise \\x1b\[2J line 2999 0{200}/);
  });
});

describe("python-exporter: the options document and Python's exit codes, through the shared table", () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-py-'));
  });
  afterEach(async () => rm(tmp, { recursive: true, force: true }));

  const REAL_PYTHON = path.join(REPO_ROOT, '.venv', 'bin', 'python');
  /** The real Python, its version check answered as is; the export runs `script` (Python) with the CLI's arguments. */
  async function wrappedPython(script: string): Promise<string> {
    const file = path.join(tmp, 'python');
    const body = `if [ "$1" = "-c" ]; then exec ${REAL_PYTHON} "$@"; fi\nshift 2\nPYTHONPATH=${path.join(REPO_ROOT, 'python')} exec ${REAL_PYTHON} -c '${script}' "$@"`;
    await writeFile(file, `#!/bin/sh\n${body}\n`);
    await chmod(file, 0o755);
    return file;
  }
  const exportArgs = (python: string, ...extra: string[]) => ['export', '--out', path.join(tmp, 'bundle'), '--factory', 'seed_models:swish_model', '--path', 'fixtures/seed', '--python', python, ...extra];

  it('passes every option as one JSON document on stdin, defaults filled in from the schema', async () => {
    const seen = path.join(tmp, 'seen');
    const python = await wrappedPython(`import sys, json; open("${seen}", "w").write(json.dumps({"argv": sys.argv[1:], "doc": json.load(sys.stdin)})); print("${tmp}/bundle")`);
    const r = await runCli(exportArgs(python, '--seed', '3', '--input-shape', 'x=4', '--input-shape', 'x=5', '--no-training-mode'));
    assert.equal(r.exitCode, EXIT.ok, r.stderr);
    const { argv, doc } = JSON.parse(await readFile(seen, 'utf8')) as { argv: string[]; doc: unknown };
    assert.deepEqual(argv, ['export', '--options-json', '-']);
    assert.deepEqual(doc, {
      out: path.join(tmp, 'bundle'), factory: 'seed_models:swish_model', modules: [], paths: ['fixtures/seed'], seed: 3, batchSize: 2,
      inputRanges: [], inputShapes: ['x=4', 'x=5'], layerGradients: 'auto', trainingMode: false, trainSteps: 0, float64Reference: false, kernelVariants: true, savedModel: false,
    });
  });

  it('an option the schema refuses is a usage error (2) naming the flag, before any Python runs', async () => {
    for (const [flag, value, message] of [
      ['--layer-gradients', 'sometimes', /--layer-gradients: Invalid enum value\. Expected 'auto' \| 'always' \| 'never', received 'sometimes'/],
      ['--seed=-1', null, /--seed: Number must be greater than or equal to 0/],
      ['--batch-size', '1.5', /--batch-size: Expected integer, received float/],
    ] as const) {
      const r = await runCli(exportArgs('/nonexistent/python', flag, ...(value === null ? [] : [value])));
      assert.equal(r.exitCode, EXIT.input_error, r.stderr);
      assert.match(r.stderr, message);
    }
  });

  it("the Python exporter's internal error (a bug) exits 70, never 1 (a parity failure)", async () => {
    const python = await wrappedPython(
      'import sys, keras_bridge.cli as cli\ndef broken(options): raise RuntimeError("simulated exporter bug")\ncli.run_export = broken\nsys.exit(cli.main(sys.argv[1:]))',
    );
    const r = await runCli(exportArgs(python));
    assert.equal(r.exitCode, EXIT.internal_error, r.stderr);
    assert.equal(r.exitCode, 70);
    assert.match(r.stderr, /the Python exporter failed with an internal error \(a bug in keras_bridge: please report it with this message\):\n {2}keras-bridge export: error: internal error: RuntimeError: simulated exporter bug/);
    assert.ok(!(await readdir(tmp)).includes('bundle'));
  });

  it("an input the real Python exporter refuses exits 2 with its message", async () => {
    const r = await runCli(exportArgs(REAL_PYTHON, '--input-range', 'ids=5:2'));
    assert.equal(r.exitCode, EXIT.input_error, r.stderr);
    assert.match(r.stderr, /Python exporter exited with code 2:\n {2}keras-bridge export: error: export options: inputRanges: expected NAME=HIGH or NAME=LOW:HIGH with LOW < HIGH/);
  });
});

describe('python-exporter: boundedTail and escapeControls', () => {
  it('keeps the last lines, at most the byte budget, escaped', () => {
    const text = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    assert.equal(boundedTail(text, 2), '(earlier output left out)\n  line 98\n  line 99');
    assert.equal(boundedTail('a\nb'), 'a\n  b');
    assert.ok(Buffer.byteLength(boundedTail('x'.repeat(100_000), 40, 1000)) < 1100);
    assert.equal(escapeControls('\x1b[31mred\u202e\x07'), '\\x1b[31mred\\u202e\\x07');
  });
});
