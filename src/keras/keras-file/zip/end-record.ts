import { ByteWindow, type ByteSource } from './byte-source.js';
import { archiveError, u64 } from './zip-errors.js';

const END_RECORD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_END_RECORD = 0x06064b50;
const END_RECORD_SIZE = 22;
const ZIP64_LOCATOR_SIZE = 20;
/** Python's zipfile assumes the zip64 end record has no extensible data: 56 bytes, right before the locator. */
const ZIP64_END_RECORD_SIZE = 56;
/** The end record is 22 bytes plus a comment of at most 65535. */
const MAX_END_RECORD_SEARCH = END_RECORD_SIZE + 0xffff;

/** Where the central directory is and what it holds, as the end record (zip64 form included) says. */
export interface EndRecord {
  /** Entries in the central directory. */
  entryCount: number;
  directoryOffset: number;
  directorySize: number;
  /** Where the central directory must end: the zip64 end record, else the end record. */
  directoryEnd: number;
  zip64: boolean;
  /** Where the (plain) end record starts. */
  recordAt: number;
}

/**
 * The offset of the end-of-central-directory record: the last signature with a whole record after
 * it, in the file's last 64 KiB + 22 bytes (its comment may fill the rest). Python's zipfile
 * (is_zipfile, hence Keras) looks for it the same way.
 */
export function findEndRecord(bytes: Uint8Array): number | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const last = bytes.length - END_RECORD_SIZE;
  for (let at = last; at >= 0 && at >= last - MAX_END_RECORD_SEARCH; at--) {
    if (view.getUint32(at, true) === END_RECORD) return at;
  }
  return undefined;
}

/**
 * Reads the end record and, when its locator is there, the zip64 end record. The two must agree
 * (a field of the plain record is either the value or its "see zip64" sentinel), the archive must
 * be on one disk, and the central directory must end exactly where the end records begin: no
 * bytes before the zip (Python would shift every offset by them) and none unaccounted for.
 */
export function readEndRecord(source: ByteSource, file: string): EndRecord {
  // The search area, and the zip64 locator and record that may sit right before it.
  const tailStart = Math.max(0, source.size - END_RECORD_SIZE - MAX_END_RECORD_SEARCH - ZIP64_LOCATOR_SIZE - ZIP64_END_RECORD_SIZE);
  const view = ByteWindow.read(source, tailStart, source.size - tailStart);
  const found = findEndRecord(view.bytes);
  if (found === undefined) {
    throw archiveError(file, `no zip end-of-central-directory record in its last 64 KiB (${source.size} bytes in all); the file may be truncated`);
  }
  const at = tailStart + found;
  const fail = (what: string) => archiveError(file, `zip end record (at byte ${at}): ${what}`);
  const disk = view.getUint16(at + 4, true);
  const directoryDisk = view.getUint16(at + 6, true);
  const entriesOnDisk = view.getUint16(at + 8, true);
  const entries = view.getUint16(at + 10, true);
  const size = view.getUint32(at + 12, true);
  const offset = view.getUint32(at + 16, true);
  const commentLength = view.getUint16(at + 20, true);
  const after = source.size - at - END_RECORD_SIZE;
  if (commentLength !== after) {
    throw fail(`comment length ${commentLength} disagrees with the ${after} bytes after the record${commentLength > after ? '; the file may be truncated' : ''}`);
  }
  const locator = at - ZIP64_LOCATOR_SIZE;
  if (locator < view.base || view.getUint32(locator, true) !== ZIP64_LOCATOR) {
    if (disk !== 0 || directoryDisk !== 0) throw fail(`disk number ${disk}, central directory on disk ${directoryDisk}: multi-disk archives are not read`);
    if (entriesOnDisk !== entries) throw fail(`entries on this disk (${entriesOnDisk}) disagree with entries in all (${entries})`);
    return { entryCount: entries, directoryOffset: offset, directorySize: size, directoryEnd: at, zip64: false, recordAt: at };
  }

  const locatorDisk = view.getUint32(locator + 4, true);
  const recordOffset = u64(view, locator + 8);
  const disks = view.getUint32(locator + 16, true);
  if (locatorDisk !== 0 || disks > 1) throw archiveError(file, `zip64 end locator: disk ${locatorDisk} of ${disks}: multi-disk archives are not read`);
  const record = locator - ZIP64_END_RECORD_SIZE;
  if (record < view.base || recordOffset !== record || view.getUint32(record, true) !== ZIP64_END_RECORD || u64(view, record + 4) !== ZIP64_END_RECORD_SIZE - 12) {
    throw archiveError(file, `zip64 end locator: points at byte ${recordOffset}, but no 56-byte zip64 end record ends at the locator (byte ${locator})`);
  }
  const fail64 = (what: string) => archiveError(file, `zip64 end record (at byte ${record}): ${what}`);
  const disk64 = view.getUint32(record + 16, true);
  const directoryDisk64 = view.getUint32(record + 20, true);
  const entriesOnDisk64 = u64(view, record + 24);
  const entries64 = u64(view, record + 32);
  const size64 = u64(view, record + 40);
  const offset64 = u64(view, record + 48);
  if (disk64 !== 0 || directoryDisk64 !== 0) throw fail64(`disk number ${disk64}, central directory on disk ${directoryDisk64}: multi-disk archives are not read`);
  if (entriesOnDisk64 !== entries64) throw fail64(`entries on this disk (${entriesOnDisk64}) disagree with entries in all (${entries64})`);
  // Writers put the value in the plain record where it fits and the sentinel where it does not.
  const agree = (plain: number, wide: number, sentinel: number) => plain === wide || plain === sentinel;
  if (!agree(disk, 0, 0xffff) || !agree(directoryDisk, 0, 0xffff)) throw fail(`disk number ${disk}, central directory on disk ${directoryDisk}: multi-disk archives are not read`);
  if (!agree(entriesOnDisk, entries64, 0xffff) || !agree(entries, entries64, 0xffff)) {
    throw fail(`entry count ${entries} disagrees with the zip64 end record's ${entries64}`);
  }
  if (!agree(size, size64, 0xffffffff)) throw fail(`central directory size ${size} disagrees with the zip64 end record's ${size64}`);
  if (!agree(offset, offset64, 0xffffffff)) throw fail(`central directory offset ${offset} disagrees with the zip64 end record's ${offset64}`);
  return { entryCount: entries64, directoryOffset: offset64, directorySize: size64, directoryEnd: record, zip64: true, recordAt: at };
}
