import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PACKAGE_ROOT } from './package-root.js';

/**
 * The exit codes, read from the one table both languages share (python/keras_bridge/schemas/exit-codes.json,
 * also read by python/keras_bridge/exit_codes.py). The names live here and in Python; the numbers only in the table.
 */
export const EXIT_CODES_FILE = path.join(PACKAGE_ROOT, 'python', 'keras_bridge', 'schemas', 'exit-codes.json');

const entry = z.object({ code: z.number().int().min(0).max(255), meaning: z.string() }).strict();
const exitCodeTable = z
  .object({
    description: z.string(),
    codes: z
      .object({
        ok: entry,
        parity_failure: entry,
        input_error: entry,
        parity_incomplete: entry,
        internal_error: entry,
        interrupted_by_sigint: entry,
        interrupted_by_sigterm: entry,
      })
      .strict(),
  })
  .strict();
export type ExitCodeName = keyof z.infer<typeof exitCodeTable>['codes'];

/** Parses the table; throws naming the file when it is missing or malformed (a broken install). */
export function readExitCodeTable(file = EXIT_CODES_FILE): Record<ExitCodeName, { code: number; meaning: string }> {
  const table = exitCodeTable.parse(JSON.parse(readFileSync(file, 'utf8'))).codes;
  const codes = Object.values(table).map((e) => e.code);
  if (new Set(codes).size !== codes.length) throw new Error(`${file}: two names share an exit code`);
  return table;
}

export const EXIT_TABLE = readExitCodeTable();

/** The exit code of each name: EXIT.input_error is 2. */
export const EXIT = Object.fromEntries(Object.entries(EXIT_TABLE).map(([name, e]) => [name, e.code])) as Record<ExitCodeName, number>;

/** The name of an exit code, or undefined for a code not in the table. */
export function exitCodeName(code: number): ExitCodeName | undefined {
  return (Object.keys(EXIT) as ExitCodeName[]).find((name) => EXIT[name] === code);
}

/** The table as --help lines. */
export function exitCodesHelp(): string[] {
  const width = Math.max(...Object.values(EXIT).map((c) => String(c).length));
  return ['Exit codes:', ...Object.values(EXIT_TABLE).map((e) => `  ${String(e.code).padStart(width)}  ${e.meaning}`)];
}
