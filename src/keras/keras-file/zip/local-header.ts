import { extraField, FLAG_DATA_DESCRIPTOR, FLAG_ENCRYPTED, type CentralEntry } from './central-directory.js';
import { ByteWindow, type ByteSource } from './byte-source.js';
import { entryError, u64 } from './zip-errors.js';

const LOCAL_HEADER = 0x04034b50;
const LOCAL_HEADER_SIZE = 30;
const ZIP64_EXTRA = 0x0001;

/** Where an entry's local header and data lie in the file. */
export interface EntrySpan {
  headerStart: number;
  dataStart: number;
  dataEnd: number;
}

/**
 * Checks an entry's local header against its central directory record. Python's zipfile reads
 * the data with the central record's sizes and method but a streaming reader uses the local
 * header's, so any disagreement (name, method, sizes, CRC, encryption) would let the same file
 * read as two different models: refused. The header and data must lie before the central directory.
 */
export function checkLocalHeader(source: ByteSource, entry: CentralEntry, directoryOffset: number, file: string): EntrySpan {
  const at = entry.localHeaderOffset;
  const fail = (what: string) => entryError(file, entry.name, `local header (at byte ${at}): ${what}`);
  if (at + LOCAL_HEADER_SIZE > directoryOffset) {
    throw entryError(file, entry.name, `central directory: local header offset ${at} lies outside the entries' area (bytes 0-${directoryOffset})`);
  }
  let view = ByteWindow.read(source, at, LOCAL_HEADER_SIZE);
  if (view.getUint32(at, true) !== LOCAL_HEADER) throw fail('no local file header signature');
  const flags = view.getUint16(at + 6, true);
  const method = view.getUint16(at + 8, true);
  const crc = view.getUint32(at + 14, true);
  let compressedSize = view.getUint32(at + 18, true);
  let uncompressedSize = view.getUint32(at + 22, true);
  const nameLength = view.getUint16(at + 26, true);
  const extraLength = view.getUint16(at + 28, true);
  const dataStart = at + LOCAL_HEADER_SIZE + nameLength + extraLength;
  if (dataStart > directoryOffset) throw fail(`name and extra field (${nameLength + extraLength} bytes) run into the central directory`);
  view = ByteWindow.read(source, at, dataStart - at);
  const name = view.subarray(at + LOCAL_HEADER_SIZE, at + LOCAL_HEADER_SIZE + nameLength);
  if (!sameBytes(name, entry.nameBytes)) throw fail(`name '${new TextDecoder().decode(name)}' differs from the central directory's`);
  if (flags & FLAG_ENCRYPTED) throw fail(`flags 0x${flags.toString(16)} mark it encrypted; Keras cannot read encrypted entries`);
  if (method !== entry.method) throw fail(`compression method ${method} differs from the central directory's ${entry.method}`);
  if (compressedSize === 0xffffffff || uncompressedSize === 0xffffffff) {
    const zip64 = extraField(view, at + LOCAL_HEADER_SIZE + nameLength, extraLength, ZIP64_EXTRA, (what) => fail(`extra field: ${what}`));
    if (!zip64) throw fail('sizes marked as in a zip64 extra field, but it has none');
    let field = zip64.start;
    const take = (what: string): number => {
      if (field + 8 > zip64.start + zip64.length) throw fail(`zip64 extra field: too short to hold the ${what}`);
      const value = u64(view, field);
      field += 8;
      return value;
    };
    if (uncompressedSize === 0xffffffff) uncompressedSize = take('uncompressed size');
    if (compressedSize === 0xffffffff) compressedSize = take('compressed size');
  }
  // With a data descriptor (flag bit 3) the local CRC and sizes may be left 0, the real ones following the data.
  const deferred = (value: number) => Boolean(flags & FLAG_DATA_DESCRIPTOR) && value === 0;
  const fields: [string, number, number][] = [
    ['compressed size', compressedSize, entry.compressedSize],
    ['uncompressed size', uncompressedSize, entry.uncompressedSize],
    ['CRC-32', crc, entry.crc32],
  ];
  for (const [field, local, central] of fields) {
    if (local !== central && !deferred(local)) throw fail(`${field} ${local} differs from the central directory's ${central}`);
  }
  const dataEnd = dataStart + entry.compressedSize;
  if (dataEnd > directoryOffset) {
    throw entryError(file, entry.name, `central directory: its ${entry.compressedSize} compressed bytes from byte ${dataStart} run into the central directory at byte ${directoryOffset}`);
  }
  return { headerStart: at, dataStart, dataEnd };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
