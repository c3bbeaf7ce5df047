import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { boundedTail, escapeControls } from '../../src/python-export/python-exporter.js';
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

  it('a failing Python that floods stderr with escape sequences: the message is bounded and escaped', async () => {
    const python = await fakePython(GOOD_PROBE, `i=0; while [ $i -lt 3000 ]; do printf 'noise \\033[2J line %s %0200d\\n' $i 0 >&2; i=$((i+1)); done; exit 3`);
    const stderr = await exportWith(python);
    const message = stderr.slice(stderr.indexOf('export: Python exporter exited with code 3'));
    assert.match(message, /^export: Python exporter exited with code 3:\n {2}\(earlier output left out\)/);
    assert.ok(Buffer.byteLength(message) < 9 * 1024, `${Buffer.byteLength(message)} bytes`);
    assert.ok(!message.includes('\x1b'));
    assert.match(message, /noise \\x1b\[2J line 2999 0{200}/);
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
