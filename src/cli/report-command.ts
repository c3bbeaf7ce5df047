import { loadParityResults } from '../parity/load-results.js';
import { formatHtmlReport } from '../report/html-report.js';
import { formatJUnit } from '../report/junit-report.js';
import { formatParityTable } from '../report/parity-table.js';
import { printableStrings } from '../report/printable.js';
import { formatRunComparison } from '../report/run-comparison.js';
import { writeOutputFile } from '../tfjs-io/output-file.js';
import { UsageError, stringFlag, type Command } from './command.js';
import { parityExitCode, useColor } from './parity-command.js';

/**
 * Saved results rendered again, by the functions `parity` renders with: the same table, and HTML
 * and JUnit files byte for byte what `parity --html/--junit` wrote for those results; so a CI job
 * can keep the JSON and render, or compare runs, later.
 */
export const reportCommand: Command = {
  name: 'report',
  summary: "render saved parity results ('parity --json') again: the table, HTML and JUnit; compare two runs",
  usage: 'report RESULTS.json [--html FILE] [--junit FILE] [--compare BASELINE.json]',
  flags: {
    html: { type: 'string', value: 'FILE', description: "write the self-contained HTML report, the same bytes as 'parity --html' wrote for these results" },
    junit: { type: 'string', value: 'FILE', description: "write the JUnit XML, the same bytes as 'parity --junit' wrote for these results" },
    compare: {
      type: 'string',
      value: 'BASELINE.json',
      description:
        'after the table, list what changed from these earlier results, per model and backend: the outcome, the worst error relative to its tolerance, tensors that now fail or now pass; the exit code stays that of RESULTS.json',
    },
    'no-color': { type: 'boolean', description: 'plain text output (also when NO_COLOR is set or stdout is not a terminal)' },
    help: { type: 'boolean', description: 'show this help' },
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
    // The order parity writes them in.
    const junit = stringFlag(args, 'junit');
    if (junit) await writeOutputFile('--junit', junit, formatJUnit(run), inputs);
    const html = stringFlag(args, 'html');
    if (html) await writeOutputFile('--html', html, formatHtmlReport(run), inputs);
    // The HTML and the XML escape what they show; the terminal gets no control character from the files.
    const color = useColor(args);
    process.stdout.write(formatParityTable(printableStrings(run), color) + '\n');
    if (baseline) process.stdout.write('\n' + formatRunComparison(printableStrings(baseline), printableStrings(run), { baseline: baselineFile!, current: file }, color) + '\n');
    return parityExitCode(run);
  },
};
