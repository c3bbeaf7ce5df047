import type { ParityRun } from '../parity/parity-result.js';
import { reportFormats } from '../report/formats/index.js';
import { writeOutputFile } from '../tfjs-io/output-file.js';
import { stringFlag, type FlagSpec, type ParsedArgs } from './command.js';

/** `--<flag> FILE` for every registered report format, described as `verb` + the format's description. */
export function reportFormatFlags(verb: string): Record<string, FlagSpec> {
  return Object.fromEntries(reportFormats().map((f) => [f.flag, { type: 'string', value: 'FILE', description: `${verb} ${f.description}` } satisfies FlagSpec]));
}

/**
 * Writes every report file the arguments ask for, in registration order, each whole or not at all
 * and never onto one of `inputs` (writeOutputFile).
 */
export async function writeReportFiles(args: ParsedArgs, run: ParityRun, inputs: readonly string[]): Promise<void> {
  for (const format of reportFormats()) {
    const file = stringFlag(args, format.flag);
    if (file !== undefined) await writeOutputFile(`--${format.flag}`, file, format.render(run), inputs);
  }
}
