import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { commandHelp, parseCommandArgs, UsageError } from '../../src/cli/command.js';
import { parityCommand } from '../../src/cli/parity-command.js';
import { reportCommand } from '../../src/cli/report-command.js';
import { loadParityResults } from '../../src/parity/load-results.js';
import { registerReportFormat, reportFormat, reportFormats } from '../../src/report/formats/index.js';
import { REPO_ROOT } from '../support/paths.js';

const V1 = path.join(REPO_ROOT, 'fixtures', 'results', 'parity-v1.json');

/** A format from a test file alone: one line per model × backend. */
const outcomesFormat = {
  flag: 'outcomes',
  description: 'one line per model and backend: its outcome',
  render: (run: { models: readonly { model: string; backends: readonly { backend: string; outcome: string }[] }[] }) =>
    run.models.flatMap((m) => m.backends.map((b) => `${m.model}\t${b.backend}\t${b.outcome}`)).join('\n') + '\n',
};

/** Runs `report` in this process (so a format registered here is seen), its table kept off the test output. */
async function report(argv: string[]): Promise<number> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await reportCommand.run(parseCommandArgs(reportCommand, argv));
  } finally {
    process.stdout.write = write;
  }
}

describe('report formats: a registry that parity and report both write from', () => {
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-formats-'));
  });
  after(async () => rm(tmp, { recursive: true, force: true }));

  it('registers JSON, JUnit and HTML, in the order files are written', () => {
    assert.deepEqual(
      reportFormats().map((f) => f.flag),
      ['json', 'junit', 'html'],
    );
    for (const flag of ['json', 'junit', 'html']) {
      assert.match(commandHelp(parityCommand), new RegExp(`--${flag} FILE +also write `));
      assert.match(commandHelp(reportCommand), new RegExp(`--${flag} FILE +write the same bytes parity wrote`));
    }
  });

  it('refuses a second format with a registered flag', () => {
    assert.throws(() => registerReportFormat({ ...outcomesFormat, flag: 'junit' }), /report format '--junit' is registered twice/);
  });

  it('a format registered from one file gets its flag in parity and report, and report writes it', async () => {
    const unregister = registerReportFormat(outcomesFormat as never);
    try {
      assert.match(commandHelp(parityCommand), /--outcomes FILE +also write one line per model and backend: its outcome/);
      assert.match(commandHelp(reportCommand), /--outcomes FILE +write the same bytes parity wrote for these results: one line/);
      const file = path.join(tmp, 'outcomes.tsv');
      assert.equal(await report([V1, '--outcomes', file]), 1);
      assert.equal(await readFile(file, 'utf8'), 'swish\tcpu\tfail\ndilated_conv\tcpu\tincomplete\n');
    } finally {
      unregister();
    }
    assert.doesNotMatch(commandHelp(parityCommand), /--outcomes/);
    assert.throws(() => parseCommandArgs(reportCommand, [V1, '--outcomes', 'x']), (e: unknown) => e instanceof UsageError && /Unknown option '--outcomes'/.test((e as Error).message));
  });

  it('report --json upgrades a v1 file to v2, and rendering that again gives the same bytes', async () => {
    const upgraded = path.join(tmp, 'upgraded.json');
    assert.equal(await report([V1, '--json', upgraded]), 1);
    const text = await readFile(upgraded, 'utf8');
    assert.match(text, /"schemaVersion": 2/);
    assert.equal(reportFormat('json').render(await loadParityResults(upgraded)), text);
    const again = path.join(tmp, 'again.json');
    await report([upgraded, '--json', again]);
    assert.equal(await readFile(again, 'utf8'), text);
  });
});
