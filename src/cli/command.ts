import { parseArgs } from 'node:util';
import { KerasBridgeError } from '../errors.js';
import { exitCodesHelp } from '../exit-codes.js';

/** A CLI flag, described once: parsing and --help both come from this. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  value?: string;
  description: string;
  default?: string;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  flags: Record<string, FlagSpec>;
  /** Extra lines for --help (exit codes, examples). */
  details?: string[];
  run(args: ParsedArgs): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export class UsageError extends KerasBridgeError {}

export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs {
  const options = Object.fromEntries(
    Object.entries(command.flags).map(([name, spec]) => [
      name,
      { type: spec.type, ...(spec.multiple ? { multiple: true } : {}), ...(spec.default !== undefined ? { default: spec.default } : {}) },
    ]),
  );
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
  } catch (e) {
    throw new UsageError(`keras-bridge ${command.name}: ${(e as Error).message}. See 'keras-bridge ${command.name} --help'.`);
  }
}

export function commandHelp(command: Command): string {
  const rows = Object.entries(command.flags).map(([name, spec]) => {
    const flag = `--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`;
    const extra = [spec.multiple ? 'repeatable' : '', spec.default !== undefined ? `default: ${spec.default}` : '']
      .filter(Boolean)
      .join('; ');
    return [flag, spec.description + (extra ? ` (${extra})` : '')] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length));
  return [
    `keras-bridge ${command.name}: ${command.summary}`,
    '',
    `Usage: keras-bridge ${command.usage}`,
    '',
    'Options:',
    ...rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`),
    ...(command.details ? ['', ...command.details] : []),
  ].join('\n');
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function listFlag(args: ParsedArgs, name: string): string[] {
  const value = args.values[name];
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

export function numberFlag(args: ParsedArgs, command: string, name: string): number | undefined {
  const text = stringFlag(args, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new UsageError(`keras-bridge ${command}: --${name} must be a number, got '${text}'.`);
  return value;
}

/** The shared exit-code table (python/keras_bridge/schemas/exit-codes.json), as --help lines. */
export const EXIT_CODES_HELP = exitCodesHelp();
