import zlib from 'node:zlib';
import { InputError } from '../../errors.js';

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_FILE_HEADER = 0x02014b50;
/** The end record is 22 bytes plus a comment of at most 65535. */
const MAX_END_RECORD_SEARCH = 22 + 0xffff;

/**
 * Checks extracted zip entries against the CRC-32 the archive's central directory records for
 * them. Keras stores .keras entries uncompressed, so without this a damaged byte inside
 * model.weights.h5 would pass as a different weight value (fflate does not check CRCs; Python's
 * zipfile, which Keras loads with, does). Skipped where Node lacks zlib.crc32 (before 20.15) and
 * for zip64 archives.
 */
export function checkEntryChecksums(zipBytes: Uint8Array, entries: Record<string, Uint8Array>, file: string): void {
  const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  if (!crc32) return;
  for (const [name, expected] of centralDirectoryCrcs(zipBytes)) {
    const bytes = entries[name];
    if (!bytes) continue;
    const actual = crc32(bytes) >>> 0;
    if (actual !== expected) {
      throw new InputError(
        `${file}: zip entry '${name}' is damaged (CRC-32 ${hex(actual)}, the archive records ${hex(expected)}). ` +
          `Save the model again with model.save('model.keras').`,
      );
    }
  }
}

function centralDirectoryCrcs(bytes: Uint8Array): Map<string, number> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const crcs = new Map<string, number>();
  const end = findEndRecord(view);
  if (end === undefined) return crcs;
  const count = view.getUint16(end + 10, true);
  let offset = view.getUint32(end + 16, true);
  if (offset === 0xffffffff) return crcs; // zip64: the real offset is elsewhere
  const decoder = new TextDecoder();
  for (let i = 0; i < count && offset + 46 <= bytes.length && view.getUint32(offset, true) === CENTRAL_FILE_HEADER; i++) {
    const nameLength = view.getUint16(offset + 28, true);
    const extraLength = view.getUint16(offset + 30, true);
    const commentLength = view.getUint16(offset + 32, true);
    const name = decoder.decode(bytes.subarray(offset + 46, offset + 46 + nameLength));
    crcs.set(name, view.getUint32(offset + 16, true));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return crcs;
}

function findEndRecord(view: DataView): number | undefined {
  const last = view.byteLength - 22;
  for (let at = last; at >= 0 && at >= last - MAX_END_RECORD_SEARCH; at--) {
    if (view.getUint32(at, true) === END_OF_CENTRAL_DIRECTORY) return at;
  }
  return undefined;
}

function hex(crc: number): string {
  return crc.toString(16).padStart(8, '0');
}
