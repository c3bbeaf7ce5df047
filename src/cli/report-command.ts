import { loadParityResults } from '../parity/load-results.js';
import { formatParityTable } from '../report/parity-table.js';
import { printableStrings } from '../report/printable.js';
import { formatRunComparison } from '../report/run-comparison.js';
import { UsageError, stringFlag, type Command, type FlagSpec } from './command.js';
import { parityExitCode, useColor } from './parity-command.js';
import { reportFormatFlags, writeReportFiles } from './report-format-flags.js';
import { commandSummary } from './command-index.js';

/**
 * Saved results rendered again, by the functions `parity` renders with: the same table, and every
 * report format (JSON, JUnit, HTML, …) byte for byte what `parity` wrote for those results; so a CI
 * job can keep the JSON and render, or compare runs, later.
 */
export const reportCommand: Command = {
  name: 'report',
  summary: commandSummary('report'),
  usage: 'report RESULTS.json [--html FILE] [--junit FILE] [--json FILE] [--compare BASELINE.json]',
  // A getter: the report formats registered when the arguments are parsed, tests' included.
  get flags() {
    return {
      ...reportFormatFlags('write the same bytes parity wrote for these results:'),
      compare: {
        type: 'string',
        value: 'BASELINE.json',
        description:
          'after the table, list what changed from these earlier results, per model and backend: the outcome, the worst error relative to its tolerance, tensors that now fail or now pass; the exit code stays that of RESULTS.json',
      },
      'no-color': { type: 'boolean', description: 'plain text output (also when NO_COLOR is set or stdout is not a terminal)' },
      help: { type: 'boolean', description: 'show this help' },
    } satisfies Record<string, FlagSpec>;
  },
  details: [
    'RESULTS.json: what parity --json wrote, schema keras-bridge-parity version 2, or version 1',
    '(from keras-bridge before version 2, read by filling what it lacked: docs/results-format.md).',
    '',
    'Exit codes (those parity exited with for the same results):',
    '  0  every compared tensor within tolerance',
    '  1  at least one tensor out of tolerance, or NaN/Inf',
    '  3  incomplete: every compared tensor within tolerance, but gradients were not compared',
    '  2  usage or input error: bad flags, a file that is not parity results, a field of the wrong',
    '     type (named with its JSON path), or an outcome its tensors contradict',
    ' 70  internal error (a bug in keras-bridge: please report it with the message)',
  ],
  async run(args) {
    if (args.positionals.length !== 1) {
      throw new UsageError("keras-bridge report: give exactly one RESULTS.json (what 'parity --json' wrote). See 'keras-bridge report --help'.");
    }
    const file = args.positionals[0]!;
    const run = await loadParityResults(file);
    const baselineFile = stringFlag(args, 'compare');
    const baseline = baselineFile !== undefined ? await loadParityResults(baselineFile) : undefined;
    const inputs = [file, ...(baselineFile !== undefined ? [baselineFile] : [])];
    await writeReportFiles(args, run, inputs);
    // The HTML and the XML escape what they show; the terminal gets no control character from the files.
    const color = useColor(args);
    process.stdout.write(formatParityTable(printableStrings(run), color) + '\n');
    if (baseline) process.stdout.write('\n' + formatRunComparison(printableStrings(baseline), printableStrings(run), { baseline: baselineFile!, current: file }, color) + '\n');
    return parityExitCode(run);
  },
};
