import { constants as bufferConstants } from 'node:buffer';

/**
 * What a `.keras` zip may declare before any of it is inflated. A zip's central directory says
 * how big each entry is; a hostile archive can declare (or deflate to) gigabytes from a few
 * kilobytes, so these are checked against the declared sizes first, and inflation then stops at
 * the declared size. The defaults fit every keras.applications model (the largest weights,
 * ConvNeXtXLarge's, are 1.4 GB; the largest config.json, NASNetLarge's, 1 MB; Keras stores
 * entries uncompressed, ratio 1) and stop a bomb long before memory runs out.
 * docs/hostile-input.md, "Zip archives (.keras)".
 */
export interface ArchiveLimits {
  /** Entries in the central directory (a Keras archive has 3, plus any assets). */
  maxEntries: number;
  /** All entries' declared uncompressed sizes together. */
  maxUncompressedBytes: number;
  /** One entry's declared uncompressed size (model.weights.h5 is the big one). */
  maxEntryBytes: number;
  /** config.json and metadata.json, each: they are parsed as one JSON string. */
  maxJsonBytes: number;
  /** Uncompressed / compressed size of a deflated entry, for entries over RATIO_FREE_BYTES. */
  maxCompressionRatio: number;
}

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

export const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  maxEntries: 10_000,
  maxUncompressedBytes: 4 * GiB,
  maxEntryBytes: 2 * GiB,
  maxJsonBytes: 64 * MiB,
  maxCompressionRatio: 100,
});

/** Entries this small are never refused for their ratio: a short JSON of spaces deflates 1000:1 and costs nothing. */
export const RATIO_FREE_BYTES = 1 * MiB;

/** The option and CLI flag naming each limit, for messages that say how to raise it. */
export const LIMIT_NAMES: Readonly<Record<keyof ArchiveLimits, { option: string; flag: string }>> = Object.freeze({
  maxEntries: { option: 'maxEntries', flag: '--max-zip-entries' },
  maxUncompressedBytes: { option: 'maxUncompressedBytes', flag: '--max-uncompressed-bytes' },
  maxEntryBytes: { option: 'maxEntryBytes', flag: '--max-entry-bytes' },
  maxJsonBytes: { option: 'maxJsonBytes', flag: '--max-json-bytes' },
  maxCompressionRatio: { option: 'maxCompressionRatio', flag: '--max-compression-ratio' },
});

export function archiveLimits(overrides: Partial<ArchiveLimits> = {}): ArchiveLimits {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_ARCHIVE_LIMITS, ...defined };
}

/** "over the 64 MiB limit (maxJsonBytes, CLI --max-json-bytes)". */
export function overLimit(limits: ArchiveLimits, name: keyof ArchiveLimits): string {
  const value = limits[name];
  const shown = name === 'maxEntries' || name === 'maxCompressionRatio' ? String(value) : formatBytes(value);
  return `over the ${shown} limit (${LIMIT_NAMES[name].option}, CLI ${LIMIT_NAMES[name].flag})`;
}

/** The largest single Uint8Array this Node can allocate: an entry bigger than this cannot be read at all. */
export const MAX_BUFFER_BYTES = bufferConstants.MAX_LENGTH;

/**
 * Why one entry's declared sizes are refused, or undefined. `cap` is the limit for what the
 * entry is read as (maxJsonBytes for JSON, maxEntryBytes otherwise).
 */
export function entrySizeRefusal(
  entry: { method: number; compressedSize: number; uncompressedSize: number },
  limits: ArchiveLimits,
  cap: 'maxEntryBytes' | 'maxJsonBytes' = 'maxEntryBytes',
): string | undefined {
  const size = entry.uncompressedSize;
  if (size > limits[cap]) return `declares ${formatBytes(size)} uncompressed, ${overLimit(limits, cap)}`;
  if (size > MAX_BUFFER_BYTES) return `declares ${formatBytes(size)} uncompressed, more than one Node buffer holds (${formatBytes(MAX_BUFFER_BYTES)})`;
  if (entry.method === 8 && size > RATIO_FREE_BYTES) {
    const ratio = size / Math.max(1, entry.compressedSize);
    if (ratio > limits.maxCompressionRatio) {
      return `declares ${formatBytes(size)} from ${formatBytes(entry.compressedSize)} compressed (ratio ${Math.round(ratio)}), ${overLimit(limits, 'maxCompressionRatio')}`;
    }
  }
  return undefined;
}

export function formatBytes(n: number): string {
  const units: [number, string][] = [[GiB, 'GiB'], [MiB, 'MiB'], [1024, 'KiB']];
  for (const [size, unit] of units) {
    if (n >= size) return `${Number((n / size).toFixed(1))} ${unit}`;
  }
  return `${n} bytes`;
}
