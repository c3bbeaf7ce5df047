import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from '../../src/cli/command-index.js';
import { runCli } from '../support/run-cli.js';

/** convert and inspect read .keras files: their zip limits (docs/hostile-input.md). */
const ARCHIVE_LIMIT_FLAGS = ['--max-zip-entries', '--max-uncompressed-bytes', '--max-entry-bytes', '--max-json-bytes', '--max-compression-ratio'] as const;

describe('CLI --help', () => {
  it('each command the index lists loads as the command of that name and summary', async () => {
    for (const entry of COMMANDS) {
      const command = await entry.load();
      assert.equal(command.name, entry.name);
      assert.equal(command.summary, entry.summary);
    }
    assert.equal(new Set(COMMANDS.map((c) => c.name)).size, COMMANDS.length);
  });

  it('keras-bridge --help lists every command without loading any, nor tfjs', () => {
    // The CommonJS modules a process loaded (tfjs is one) are in require.cache; ES modules cannot be listed, so the command modules say so by loading tfjs.
    const runCommand = fileURLToPath(new URL('../../src/cli/run-command.js', import.meta.url));
    const script = `const { runCommand } = await import(${JSON.stringify(runCommand)}); await runCommand(['--help']); const { createRequire } = await import('node:module'); const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('@tensorflow')); process.stdout.write('\\n' + JSON.stringify(loaded));`;
    const loadedBy = (source: string): string[] => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', source], { encoding: 'utf8' }).split('\n').at(-1)!) as string[];
    assert.deepEqual(loadedBy(script), []);
    // The check can see tfjs: a command's help loads it.
    assert.ok(loadedBy(script.replace(`['--help']`, `['convert', '--help']`)).length > 0);
  });

  for (const [command, flags] of [
    ['export', ['--out', '--factory', '--model', '--module', '--path', '--seed', '--batch-size', '--input-range', '--layer-gradients', '--train-steps', '--no-training-mode', '--float64-reference', '--python', '--timeout']],
    ['convert', ['--custom-layers', '--json', ...ARCHIVE_LIMIT_FLAGS]],
    ['parity', ['--backend', '--atol', '--rtol', '--json', '--junit', '--html', '--tolerances', '--shard', '--custom-layers', '--no-color']],
    ['demo', ['--out', '--backend']],
  ] as const) {
    it(`${command} documents every flag and the exit codes`, async () => {
      const r = await runCli([command, '--help']);
      assert.equal(r.exitCode, 0);
      for (const flag of flags) assert.match(r.stdout, new RegExp(`^  ${flag}\\b.{4,}`, 'm'), `${command} ${flag}`);
      assert.match(r.stdout, /Exit codes:[\s\S]*\b1\s+parity failure[\s\S]*\b2\s+usage or input error/);
      assert.match(r.stdout, /\b3\s+parity incomplete: every compared tensor within tolerance, but a layer runs an operation/);
    });
  }

  it('inspect documents its flags and exit codes', async () => {
    const r = await runCli(['inspect', '--help']);
    assert.equal(r.exitCode, 0);
    for (const flag of ['--custom-layers', '--json', ...ARCHIVE_LIMIT_FLAGS]) assert.match(r.stdout, new RegExp(`^  ${flag}\\b.{4,}`, 'm'), flag);
    assert.match(r.stdout, /Exit codes:[\s\S]*\b0\s+inspected \(also when layers are missing[\s\S]*\b2\s+usage or input error/);
  });

  it('report documents its flags, what it reads, and the exit codes it shares with parity', async () => {
    const r = await runCli(['report', '--help']);
    assert.equal(r.exitCode, 0);
    assert.match(r.stdout, /^Usage: keras-bridge report RESULTS\.json /m);
    for (const flag of ['--html', '--junit', '--compare', '--no-color']) assert.match(r.stdout, new RegExp(`^  ${flag}\\b.{4,}`, 'm'), flag);
    assert.match(r.stdout, /schema keras-bridge-parity version 2, or version 1/);
    assert.match(r.stdout, /Exit codes \(those parity exited with for the same results\):\s+0 [^\n]+\s+1 [^\n]+\s+3  incomplete[\s\S]*\b2\s+usage or input error/);
  });

  it('lists the commands without arguments, and exits 2', async () => {
    const r = await runCli([]);
    assert.equal(r.exitCode, 2);
    for (const c of ['export', 'convert', 'inspect', 'parity', 'report', 'demo']) assert.match(r.stdout, new RegExp(`^  ${c}\\s`, 'm'));
  });
});
