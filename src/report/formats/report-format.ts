import type { ParityRun } from '../../parity/parity-result.js';

/**
 * A file format parity results can be written in. `parity` and `report` each get a `--<flag> FILE`
 * for every registered format and write them in registration order; a new format is one file in
 * src/report/formats/ and one import in its index.ts.
 */
export interface ReportFormat {
  /** The CLI flag, without dashes; also the format's name. */
  flag: string;
  /** What the file holds, for --help ("also write …" is added by `parity`). */
  description: string;
  /** The whole file. Deterministic for the same results: `report` must reproduce `parity`'s bytes. */
  render(run: ParityRun): string;
}
