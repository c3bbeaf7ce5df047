import { DEFAULT_ARCHIVE_LIMITS, LIMIT_NAMES, formatBytes, type ArchiveLimits } from '../keras/keras-file/zip/archive-limits.js';
import { UsageError, stringFlag, type FlagSpec, type ParsedArgs } from './command.js';

type LimitKind = 'bytes' | 'count' | 'ratio';

/** Each limit of ArchiveLimits as a flag: what it bounds and how its value is written. */
const LIMIT_FLAGS: Record<keyof ArchiveLimits, { kind: LimitKind; bounds: string }> = {
  maxEntries: { kind: 'count', bounds: 'entries a .keras zip may hold' },
  maxUncompressedBytes: { kind: 'bytes', bounds: "a .keras zip's entries may declare uncompressed, all together, and an HDF5 file's datasets (the weights)" },
  maxEntryBytes: { kind: 'bytes', bounds: 'one .keras zip entry (model.weights.h5) may declare uncompressed, and one HDF5 dataset (a weight)' },
  maxJsonBytes: { kind: 'bytes', bounds: "a .keras file's config.json or metadata.json may declare uncompressed" },
  maxCompressionRatio: { kind: 'ratio', bounds: 'uncompressed / compressed size of a deflated .keras zip entry over 1 MiB, and declared / stored bytes of an HDF5 file' },
};

const shown = (key: keyof ArchiveLimits) =>
  LIMIT_FLAGS[key].kind === 'bytes' ? formatBytes(DEFAULT_ARCHIVE_LIMITS[key]).replace(' ', '') : String(DEFAULT_ARCHIVE_LIMITS[key]);

/** The flags of every command that reads a .keras file (convert, inspect); docs/hostile-input.md. */
export const archiveLimitFlags: Record<string, FlagSpec> = Object.fromEntries(
  (Object.keys(LIMIT_FLAGS) as (keyof ArchiveLimits)[]).map((key) => [
    LIMIT_NAMES[key].flag.slice(2),
    {
      type: 'string',
      value: LIMIT_FLAGS[key].kind === 'bytes' ? 'SIZE' : 'N',
      description:
        `the most ${LIMIT_FLAGS[key].bounds}; default ${shown(key)}` +
        (LIMIT_FLAGS[key].kind === 'bytes' ? ' (SIZE in bytes, or with KiB, MiB, GiB)' : '') +
        '; checked before anything is inflated (docs/hostile-input.md)',
    } satisfies FlagSpec,
  ]),
);

/** The limits the flags set; unset ones are left to DEFAULT_ARCHIVE_LIMITS. */
export function parseArchiveLimitFlags(args: ParsedArgs, command: string): Partial<ArchiveLimits> {
  const limits: Partial<ArchiveLimits> = {};
  for (const key of Object.keys(LIMIT_FLAGS) as (keyof ArchiveLimits)[]) {
    const flag = LIMIT_NAMES[key].flag;
    const text = stringFlag(args, flag.slice(2));
    if (text === undefined) continue;
    const value = LIMIT_FLAGS[key].kind === 'bytes' ? parseSize(text) : Number(text);
    const whole = LIMIT_FLAGS[key].kind !== 'ratio';
    if (value === undefined || !Number.isFinite(value) || value <= 0 || (whole && !Number.isInteger(value))) {
      const expected = LIMIT_FLAGS[key].kind === 'bytes' ? 'a size such as 500000000, 512MiB or 4GiB' : whole ? 'a whole number above 0' : 'a number above 0';
      throw new UsageError(`keras-bridge ${command}: ${flag} must be ${expected}, got '${text}'.`);
    }
    limits[key] = value;
  }
  return limits;
}

const UNITS: Record<string, number> = { '': 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };

/** "4GiB", "512 MiB", "1000": bytes (binary units only, so a size means one thing). */
export function parseSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match && UNITS[match[2]!.toLowerCase()];
  if (!match || unit === undefined || unit === null) return undefined;
  return Math.floor(Number(match[1]) * unit);
}
