import { overLimit, type ArchiveLimits } from './archive-limits.js';
import type { EndRecord } from './end-record.js';
import { ByteWindow, type ByteSource } from './byte-source.js';
import { archiveError, entryError, limitError, u64 } from './zip-errors.js';

const CENTRAL_HEADER = 0x02014b50;
const CENTRAL_HEADER_SIZE = 46;
const ZIP64_EXTRA = 0x0001;
/** General purpose flag bits. */
export const FLAG_ENCRYPTED = 1 << 0;
export const FLAG_DATA_DESCRIPTOR = 1 << 3;
const FLAG_PATCHED = 1 << 5;
const FLAG_STRONG_ENCRYPTION = 1 << 6;
const FLAG_UTF8 = 1 << 11;
export const METHOD_STORED = 0;
export const METHOD_DEFLATE = 8;

/** One central directory record, zip64 sizes and offset resolved. */
export interface CentralEntry {
  name: string;
  /** The name's bytes, compared byte for byte with the local header's. */
  nameBytes: Uint8Array;
  flags: number;
  method: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

/** What the records' fields are read through: a DataView, or a ByteWindow at file offsets. */
export type ZipFields = Pick<DataView, 'getUint16' | 'getUint32' | 'getBigUint64'>;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/**
 * Parses every record of the central directory, which must fill exactly the bytes the end record
 * gives it and hold exactly the entries it counts. Refuses what Keras (Python's zipfile) refuses
 * or could read differently: encryption, compression methods other than stored and deflate,
 * duplicate names, zip64 sentinels without their zip64 extra field.
 */
export function readCentralDirectory(source: ByteSource, end: EndRecord, file: string, limits: ArchiveLimits): CentralEntry[] {
  const start = end.directoryOffset;
  const stop = start + end.directorySize;
  if (stop > end.directoryEnd) {
    throw archiveError(file, `central directory: bytes ${start}-${stop} run past the end record at byte ${end.directoryEnd}; the file may be truncated`);
  }
  if (stop !== end.directoryEnd) {
    throw archiveError(file, `central directory: ends at byte ${stop}, but the end record starts at byte ${end.directoryEnd} (bytes before the zip, or between its parts)`);
  }
  if (end.entryCount > limits.maxEntries) {
    throw limitError(file, undefined, `the zip end record counts ${end.entryCount} entries, ${overLimit(limits, 'maxEntries')}`);
  }
  // Within the file: the end record lies past it.
  const view = ByteWindow.read(source, start, end.directorySize);
  const entries: CentralEntry[] = [];
  const seen = new Set<string>();
  let at = start;
  while (at < stop) {
    const index = entries.length;
    const fail = (what: string) => archiveError(file, `central directory record ${index} (at byte ${at}): ${what}`);
    if (index >= end.entryCount) throw archiveError(file, `zip end record: entry count ${end.entryCount} disagrees with the central directory, which holds more records`);
    if (at + CENTRAL_HEADER_SIZE > stop) throw fail('cut short by the end of the central directory');
    if (view.getUint32(at, true) !== CENTRAL_HEADER) throw fail('no central file header signature');
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const next = at + CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
    if (next > stop) throw fail(`name, extra field and comment (${next - at - CENTRAL_HEADER_SIZE} bytes) run past the end of the central directory`);
    const nameBytes = view.subarray(at + CENTRAL_HEADER_SIZE, at + CENTRAL_HEADER_SIZE + nameLength);
    const name = decodeName(nameBytes, flags, fail);
    const entry: CentralEntry = {
      name,
      nameBytes,
      flags,
      method,
      crc32: view.getUint32(at + 16, true),
      compressedSize: view.getUint32(at + 20, true),
      uncompressedSize: view.getUint32(at + 24, true),
      localHeaderOffset: view.getUint32(at + 42, true),
    };
    const disk = readZip64Extra(view, at + CENTRAL_HEADER_SIZE + nameLength, extraLength, entry, view.getUint16(at + 34, true), file);
    const refuse = (what: string) => entryError(file, name, what);
    if (disk !== 0) throw refuse(`central directory: starts on disk ${disk}; multi-disk archives are not read`);
    if (seen.has(name)) throw refuse('central directory: the name appears twice (readers would disagree on which one is meant)');
    if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) throw refuse(`central directory: flags 0x${flags.toString(16)} mark it encrypted; Keras cannot read encrypted entries`);
    if (flags & FLAG_PATCHED) throw refuse(`central directory: flags 0x${flags.toString(16)} mark it compressed patched data, which is not read`);
    if (method !== METHOD_STORED && method !== METHOD_DEFLATE) throw refuse(`central directory: compression method ${method}; only 0 (stored) and 8 (deflate) are read`);
    if (method === METHOD_STORED && entry.compressedSize !== entry.uncompressedSize) {
      throw refuse(`central directory: stored (uncompressed), but its compressed size ${entry.compressedSize} differs from its size ${entry.uncompressedSize}`);
    }
    seen.add(name);
    entries.push(entry);
    at = next;
  }
  if (entries.length !== end.entryCount) {
    throw archiveError(file, `zip end record: entry count ${end.entryCount} disagrees with the ${entries.length} entries of the central directory`);
  }
  return entries;
}

/** Python decodes names as UTF-8 when flag bit 11 says so, else as cp437; only ASCII names are looked up here. */
function decodeName(nameBytes: Uint8Array, flags: number, fail: (what: string) => Error): string {
  if (!(flags & FLAG_UTF8)) return latin1.decode(nameBytes);
  try {
    return utf8.decode(nameBytes);
  } catch {
    throw fail('its name is flagged UTF-8 but is not valid UTF-8');
  }
}

/**
 * Replaces 0xffffffff sizes and offset (and a 0xffff disk) with the zip64 extra field's 8-byte
 * values, in the order the zip spec (and Python) reads them. Returns the disk number.
 */
function readZip64Extra(view: ZipFields, start: number, length: number, entry: CentralEntry, disk: number, file: string): number {
  const wanted = [
    entry.uncompressedSize === 0xffffffff ? 'uncompressed size' : '',
    entry.compressedSize === 0xffffffff ? 'compressed size' : '',
    entry.localHeaderOffset === 0xffffffff ? 'local header offset' : '',
  ].filter(Boolean);
  const field = extraField(view, start, length, ZIP64_EXTRA, (what) => entryError(file, entry.name, `central directory extra field: ${what}`));
  if (wanted.length === 0 && disk !== 0xffff) return disk;
  if (!field) throw entryError(file, entry.name, `central directory: ${[...wanted, disk === 0xffff ? 'disk' : ''].filter(Boolean).join(', ')} marked as in a zip64 extra field, but it has none`);
  let at = field.start;
  const take = (what: string): number => {
    if (at + 8 > field.start + field.length) throw entryError(file, entry.name, `zip64 extra field: too short to hold the ${what}`);
    const value = u64(view, at);
    at += 8;
    return value;
  };
  if (entry.uncompressedSize === 0xffffffff) entry.uncompressedSize = take('uncompressed size');
  if (entry.compressedSize === 0xffffffff) entry.compressedSize = take('compressed size');
  if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = take('local header offset');
  if (disk === 0xffff) {
    if (at + 4 > field.start + field.length) throw entryError(file, entry.name, 'zip64 extra field: too short to hold the disk number');
    return view.getUint32(at, true);
  }
  return disk;
}

/** The first extra field with this id: its data's start and length. Fields must tile the extra area. */
export function extraField(
  view: ZipFields,
  start: number,
  length: number,
  id: number,
  fail: (what: string) => Error,
): { start: number; length: number } | undefined {
  let found: { start: number; length: number } | undefined;
  let at = start;
  const stop = start + length;
  while (at + 4 <= stop) {
    const fieldId = view.getUint16(at, true);
    const size = view.getUint16(at + 2, true);
    if (at + 4 + size > stop) throw fail(`field 0x${fieldId.toString(16).padStart(4, '0')} of ${size} bytes runs past the extra area`);
    if (fieldId === id && !found) found = { start: at + 4, length: size };
    at += 4 + size;
  }
  return found;
}
