import zlib from 'node:zlib';
import { entrySizeRefusal, formatBytes, overLimit, type ArchiveLimits } from './archive-limits.js';
import { METHOD_STORED, readCentralDirectory, type CentralEntry } from './central-directory.js';
import { bytesSource, type ByteSource } from './byte-source.js';
import { crc32, crc32Update } from './crc32.js';
import { readEndRecord } from './end-record.js';
import { checkLocalHeader, type EntrySpan } from './local-header.js';
import { entryError, limitError } from './zip-errors.js';
import type { InputError } from '../../../errors.js';

export type ZipEntry = CentralEntry & EntrySpan;

/** A zip whose structure was checked whole; entries are inflated only when read. */
export interface ZipArchive {
  file: string;
  source: ByteSource;
  limits: ArchiveLimits;
  /** In central directory order. */
  entries: ZipEntry[];
  /** Where the end record starts, for messages.*/
  endRecordAt: number;
}

/**
 * Checks a zip's structure and declared sizes before anything is inflated: end records, central
 * directory, every local header, entries neither overlapping nor outside the file, and the
 * limits. Every refusal is an InputError naming the file, the entry and the field.
 */
export function openZipArchive(content: Uint8Array | ByteSource, file: string, limits: ArchiveLimits): ZipArchive {
  const source = content instanceof Uint8Array ? bytesSource(content) : content;
  const end = readEndRecord(source, file);
  const central = readCentralDirectory(source, end, file, limits);
  const total = central.reduce((sum, entry) => sum + entry.uncompressedSize, 0);
  if (total > limits.maxUncompressedBytes) {
    throw limitError(file, undefined, `its ${central.length} zip entries declare ${formatBytes(total)} uncompressed in all, ${overLimit(limits, 'maxUncompressedBytes')}`);
  }
  for (const entry of central) {
    const refusal = entrySizeRefusal(entry, limits);
    if (refusal) throw limitError(file, entry.name, refusal);
  }
  const entries = central.map((entry) => ({ ...entry, ...checkLocalHeader(source, entry, end.directoryOffset, file) }));
  const byPosition = [...entries].sort((a, b) => a.headerStart - b.headerStart);
  for (let i = 1; i < byPosition.length; i++) {
    const [before, after] = [byPosition[i - 1]!, byPosition[i]!];
    if (after.headerStart < before.dataEnd) {
      throw entryError(file, after.name, `central directory: local header offset ${after.headerStart} lies inside entry '${before.name}' (bytes ${before.headerStart}-${before.dataEnd})`);
    }
  }
  return { file, source, limits, entries, endRecordAt: end.recordAt };
}

/**
 * An entry's bytes: stored ones as a view of the file, deflated ones inflated no further than the
 * declared size (a bomb stops there). The CRC-32 is always checked. `cap` is the limit the entry
 * is read under: maxJsonBytes for the JSON that is parsed whole, maxEntryBytes otherwise.
 */
export function readZipEntry(archive: ZipArchive, entry: ZipEntry, cap: 'maxEntryBytes' | 'maxJsonBytes' = 'maxEntryBytes'): Uint8Array {
  const { file } = archive;
  const refusal = entrySizeRefusal(entry, archive.limits, cap);
  if (refusal) throw limitError(file, entry.name, refusal);
  const data = archive.source.read(entry.dataStart, entry.dataEnd - entry.dataStart);
  const bytes = entry.method === METHOD_STORED ? data : inflateBounded(data, entry, file);
  checkCrc(archive, entry, crc32(bytes));
  return bytes;
}

/**
 * How much of a stored entry checkStoredBytes reads at once: a piece that stays in the core's cache
 * between the read and the CRC-32. ResNet50's 98 MB took 68-71 ms in pieces of 8 MB, which the
 * CRC-32 read back from memory, and 46-49 ms in pieces of 256 KB.
 */
const CRC_CHUNK_BYTES = 256 * 1024;

/**
 * Checks a stored entry's CRC-32 reading it a chunk at a time, for an entry read in place later
 * (model.weights.h5, which the HDF5 reader reads where it lies): it is never whole in memory.
 */
export function checkStoredEntry(archive: ZipArchive, entry: ZipEntry): void {
  if (entry.method !== METHOD_STORED) throw new Error(`zip entry '${entry.name}' is not stored`);
  checkStoredBytes(archive.source, { archive: archive.file, name: entry.name, start: entry.dataStart, end: entry.dataEnd, crc32: entry.crc32 });
}

/** A stored entry, by name, and the CRC-32 the archive records for its bytes; `archive` names the zip file in messages. */
export interface StoredZipEntry {
  archive: string;
  name: string;
  crc32: number;
}

/** A stored entry's bytes [start, end) in its file. */
export interface StoredEntryRange extends StoredZipEntry {
  start: number;
  end: number;
}

/**
 * Throws the archive's damage error where bytes [start, end) of `source` do not have the CRC-32
 * recorded for the entry: checkStoredEntry's check, for a reader that has the file open elsewhere
 * (the HDF5 reader's thread checks model.weights.h5 before it parses a byte of it).
 */
export function checkStoredBytes(source: ByteSource, range: StoredEntryRange): void {
  let crc = 0;
  const buffer = new Uint8Array(Math.min(CRC_CHUNK_BYTES, Math.max(0, range.end - range.start)));
  for (let at = range.start; at < range.end; at += CRC_CHUNK_BYTES) {
    const chunk = source.read(at, Math.min(CRC_CHUNK_BYTES, range.end - at), buffer);
    if (chunk.length === 0) break;
    crc = crc32Update(chunk, crc);
  }
  if (crc !== range.crc32) throw crcError(range.archive, range.name, crc, range.crc32);
}

function checkCrc(archive: ZipArchive, entry: ZipEntry, actual: number): void {
  if (actual !== entry.crc32) throw crcError(archive.file, entry.name, actual, entry.crc32);
}

function crcError(file: string, entry: string, actual: number, recorded: number): InputError {
  return entryError(file, entry, `CRC-32 ${hex(actual)} of its bytes disagrees with the ${hex(recorded)} the archive records: the entry is damaged`);
}

function inflateBounded(data: Uint8Array, entry: ZipEntry, file: string): Uint8Array {
  const declared = entry.uncompressedSize;
  let out: Uint8Array;
  try {
    // zlib stops (and throws) as soon as the output passes maxOutputLength, so memory stays at the declared size.
    out = zlib.inflateRawSync(data, { maxOutputLength: Math.max(1, declared) });
  } catch (e) {
    const error = e as NodeJS.ErrnoException;
    if (error.code === 'ERR_BUFFER_TOO_LARGE') {
      throw entryError(file, entry.name, `deflate data inflates past the ${declared} bytes the central directory declares (a zip bomb, or a damaged archive)`);
    }
    throw entryError(file, entry.name, `deflate data is damaged (${error.message})`);
  }
  if (out.length !== declared) {
    const what = out.length > declared ? 'past' : `to ${out.length} bytes, not`;
    throw entryError(file, entry.name, `deflate data inflates ${what} the ${declared} bytes the central directory declares`);
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

function hex(crc: number): string {
  return crc.toString(16).padStart(8, '0');
}
