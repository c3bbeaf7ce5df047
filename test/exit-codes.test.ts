import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EXIT, EXIT_CODES_FILE, exitCodeName, exitCodesHelp, readExitCodeTable } from '../src/exit-codes.js';
import { REPO_ROOT } from './support/paths.js';
import { runCli } from './support/run-cli.js';

describe('exit codes: one table for the Node CLI and the Python exporter', () => {
  it('reads python/keras_bridge/schemas/exit-codes.json: 0 ok, 1 parity failure, 2 input error, 3 incomplete, 70 internal error', () => {
    assert.equal(EXIT_CODES_FILE, path.join(REPO_ROOT, 'python', 'keras_bridge', 'schemas', 'exit-codes.json'));
    assert.deepEqual(EXIT, { ok: 0, parity_failure: 1, input_error: 2, parity_incomplete: 3, internal_error: 70, interrupted_by_sigint: 130, interrupted_by_sigterm: 143 });
    assert.equal(exitCodeName(70), 'internal_error');
    assert.equal(exitCodeName(4), undefined);
  });

  it('refuses a table that lacks a name, adds one or gives two names one code', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-exit-'));
    try {
      const table = JSON.parse(await readFile(EXIT_CODES_FILE, 'utf8')) as { codes: Record<string, { code: number; meaning: string }> };
      const variants = [
        { ...table, codes: { ...table.codes, internal_error: undefined } },
        { ...table, codes: { ...table.codes, another: { code: 9, meaning: 'x' } } },
        { ...table, codes: { ...table.codes, internal_error: { code: 1, meaning: 'x' } } },
      ];
      for (const [i, variant] of variants.entries()) {
        const file = path.join(tmp, `${i}.json`);
        await writeFile(file, JSON.stringify(variant));
        assert.throws(() => readExitCodeTable(file));
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it("README's table names every code of the file, and no other", async () => {
    const readme = await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Exit codes'), readme.indexOf('\n## ', readme.indexOf('## Exit codes') + 1));
    const rows = [...section.matchAll(/^\| ([\d, ]+) \| ([a-z_, ]+) \|/gm)];
    const documented: Record<string, number> = {};
    for (const [, codes, names] of rows) {
      const c = codes!.split(',').map((x) => Number(x.trim()));
      names!.split(',').map((x) => x.trim()).forEach((name, i) => (documented[name] = c[i]!));
    }
    assert.deepEqual(documented, EXIT);
  });

  it('--help lists the table, and no CLI or exporter source spells an exit code as a number', async () => {
    const help = await runCli(['export', '--help']);
    assert.equal(help.exitCode, EXIT.ok);
    for (const line of exitCodesHelp().slice(1)) assert.ok(help.stdout.includes(line), line);
    for (const dir of ['src/cli', 'src/python-export']) {
      for (const file of await readdir(path.join(REPO_ROOT, dir))) {
        const text = await readFile(path.join(REPO_ROOT, dir, file), 'utf8');
        assert.doesNotMatch(text, /(return|exitCode =|exitCode ===?|exitCode !==?)\s+\d+\b/, `${dir}/${file}`);
      }
    }
  });
});
