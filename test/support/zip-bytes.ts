import zlib from 'node:zlib';
import { tableCrc32 } from '../../src/keras/keras-file/zip/crc32.js';

// Small tools to take a zip apart and patch it, for tests of hostile archives. They find the
// records by walking from the end record, independently of the reader under test.

/** Field offsets inside a local header and a central directory record. */
const LOCAL = { flags: 6, method: 8, crc: 14, compressedSize: 18, uncompressedSize: 22, nameLength: 26 } as const;
const CENTRAL = { flags: 8, method: 10, crc: 16, compressedSize: 20, uncompressedSize: 24, nameLength: 28, localOffset: 42 } as const;
export type EntryField = 'flags' | 'method' | 'crc' | 'compressedSize' | 'uncompressedSize';

export interface ZipLayout {
  end: number;
  directoryOffset: number;
  entries: { name: string; local: number; central: number; dataStart: number; compressedSize: number }[];
}

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function endRecord(bytes: Uint8Array): number {
  let end = bytes.length - 22;
  while (view(bytes).getUint32(end, true) !== 0x06054b50) end--;
  return end;
}

export function zipLayout(bytes: Uint8Array): ZipLayout {
  const v = view(bytes);
  const end = endRecord(bytes);
  const zip64 = end >= 76 && v.getUint32(end - 20, true) === 0x07064b50 ? end - 76 : undefined;
  const count = zip64 === undefined ? v.getUint16(end + 10, true) : Number(v.getBigUint64(zip64 + 32, true));
  const directoryOffset = zip64 === undefined ? v.getUint32(end + 16, true) : Number(v.getBigUint64(zip64 + 48, true));
  const entries: ZipLayout['entries'] = [];
  let at = directoryOffset;
  for (let i = 0; i < count; i++) {
    const nameLength = v.getUint16(at + 28, true);
    const extraLength = v.getUint16(at + 30, true);
    // A central zip64 extra field as toZip64Central writes it: both sizes, then the offset.
    const wide = extraLength >= 28 && v.getUint16(at + 46 + nameLength, true) === 1;
    const local = wide ? Number(v.getBigUint64(at + 46 + nameLength + 20, true)) : v.getUint32(at + 42, true);
    const compressedSize = wide ? Number(v.getBigUint64(at + 46 + nameLength + 12, true)) : v.getUint32(at + 20, true);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    const dataStart = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    entries.push({ name, local, central: at, dataStart, compressedSize });
    at += 46 + nameLength + v.getUint16(at + 30, true) + v.getUint16(at + 32, true);
  }
  return { end, directoryOffset, entries };
}

/** A copy with one field of entry `index` set, in its local header, central record or both. */
export function patchEntry(bytes: Uint8Array, index: number, field: EntryField, value: number, where: 'local' | 'central' | 'both' = 'both'): Uint8Array {
  const copy = bytes.slice();
  const entry = zipLayout(copy).entries[index]!;
  const v = view(copy);
  const set = (at: number) => (field === 'flags' || field === 'method' ? v.setUint16(at, value, true) : v.setUint32(at, value, true));
  if (where !== 'central') set(entry.local + LOCAL[field]);
  if (where !== 'local') set(entry.central + CENTRAL[field]);
  return copy;
}

/** A copy with the end record's field (entriesOnDisk 8, entries 10, directorySize 12, directoryOffset 16, commentLength 20) set. */
export function patchEnd(bytes: Uint8Array, field: 'entriesOnDisk' | 'entries' | 'directorySize' | 'directoryOffset' | 'commentLength', value: number): Uint8Array {
  const copy = bytes.slice();
  const at = endRecord(copy);
  const offsets = { entriesOnDisk: 8, entries: 10, directorySize: 12, directoryOffset: 16, commentLength: 20 };
  if (field === 'directorySize' || field === 'directoryOffset') view(copy).setUint32(at + offsets[field], value, true);
  else view(copy).setUint16(at + offsets[field], value, true);
  return copy;
}

/**
 * The same archive with its end record in zip64 form, as Python writes it for archives past
 * 65535 entries or 4 GiB: a zip64 end record and its locator before the plain end record, whose
 * fields become the "see zip64" sentinels (or keep their values, `sentinels: false`).
 */
export function toZip64End(bytes: Uint8Array, options: { sentinels?: boolean; zip64Entries?: number } = {}): Uint8Array {
  const { end, directoryOffset, entries } = zipLayout(bytes);
  const v = view(bytes);
  const size = v.getUint32(end + 12, true);
  const count = options.zip64Entries ?? entries.length;
  const record = new Uint8Array(56 + 20);
  const r = view(record);
  r.setUint32(0, 0x06064b50, true);
  r.setBigUint64(4, 44n, true);
  r.setUint16(12, 45, true);
  r.setUint16(14, 45, true);
  r.setBigUint64(24, BigInt(count), true);
  r.setBigUint64(32, BigInt(count), true);
  r.setBigUint64(40, BigInt(size), true);
  r.setBigUint64(48, BigInt(directoryOffset), true);
  r.setUint32(56, 0x07064b50, true);
  r.setBigUint64(56 + 8, BigInt(end), true); // the zip64 end record goes where the plain one was
  r.setUint32(56 + 16, 1, true);
  const plain = bytes.slice(end);
  if (options.sentinels !== false) {
    const p = view(plain);
    p.setUint16(8, 0xffff, true);
    p.setUint16(10, 0xffff, true);
    p.setUint32(12, 0xffffffff, true);
    p.setUint32(16, 0xffffffff, true);
  }
  const out = new Uint8Array(end + record.length + plain.length);
  out.set(bytes.subarray(0, end));
  out.set(record, end);
  out.set(plain, end + record.length);
  return out;
}

/**
 * The same archive with every central directory record in zip64 form, as a writer does for
 * entries past 4 GiB: sizes and local header offset 0xffffffff, their values in a zip64 extra field.
 */
export function toZip64Central(bytes: Uint8Array): Uint8Array {
  const { end, directoryOffset, entries } = zipLayout(bytes);
  const v = view(bytes);
  const records = entries.map(({ central }) => {
    const nameLength = v.getUint16(central + 28, true);
    const extraLength = v.getUint16(central + 30, true);
    const commentLength = v.getUint16(central + 32, true);
    const head = bytes.slice(central, central + 46 + nameLength);
    const extra = new Uint8Array(28);
    const x = view(extra);
    x.setUint16(0, 1, true);
    x.setUint16(2, 24, true);
    x.setBigUint64(4, BigInt(v.getUint32(central + 24, true)), true);
    x.setBigUint64(12, BigInt(v.getUint32(central + 20, true)), true);
    x.setBigUint64(20, BigInt(v.getUint32(central + 42, true)), true);
    const h = view(head);
    h.setUint16(30, extraLength + extra.length, true);
    for (const at of [20, 24, 42]) h.setUint32(at, 0xffffffff, true);
    const rest = bytes.subarray(central + 46 + nameLength, central + 46 + nameLength + extraLength + commentLength);
    return concat([head, extra, rest]);
  });
  const directory = concat(records);
  const plain = bytes.slice(end);
  view(plain).setUint32(12, directory.length, true);
  return concat([bytes.subarray(0, directoryOffset), directory, plain]);
}

/**
 * A raw deflate stream of `mebibytes` MiB of zeros, built from one fully flushed 1 MiB block
 * repeated (a full flush resets the window, so the copies are independent), then a final empty
 * block: gigabytes of output from a stream of about 1 KB per MiB, without allocating them.
 */
export function deflatedZeros(mebibytes: number): Uint8Array {
  const block = zlib.deflateRawSync(Buffer.alloc(1 << 20), { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH });
  const out = new Uint8Array(block.length * mebibytes + 2);
  for (let i = 0; i < mebibytes; i++) out.set(block, i * block.length);
  out.set([0x03, 0x00], block.length * mebibytes); // final fixed-Huffman block with no symbols but end-of-block
  return out;
}

/** CRC-32 of `mebibytes` MiB of zeros (what a declared-honest bomb records), without allocating them all. */
export function zerosCrc32(mebibytes: number): number {
  const chunk = new Uint8Array(1 << 20);
  let crc = 0;
  const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
  if (!native) return tableCrc32(new Uint8Array(mebibytes << 20));
  for (let i = 0; i < mebibytes; i++) crc = native(chunk, crc);
  return crc >>> 0;
}

/**
 * A zip with one deflated entry per item, `raw` given as the deflate stream and `size` declared,
 * whatever the stream inflates to: how a zip bomb is written. Stored entries are plain data.
 */
export function writeZip(items: { name: string; data?: Uint8Array; raw?: Uint8Array; size?: number; crc?: number }[]): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const item of items) {
    const name = new TextEncoder().encode(item.name);
    const deflated = item.raw !== undefined;
    const body = item.raw ?? item.data ?? new Uint8Array();
    const size = item.size ?? body.length;
    const crc = item.crc ?? (deflated ? 0 : tableCrc32(body));
    const local = new Uint8Array(30 + name.length + body.length);
    const l = view(local);
    l.setUint32(0, 0x04034b50, true);
    l.setUint16(4, 20, true);
    l.setUint16(8, deflated ? 8 : 0, true);
    l.setUint32(14, crc, true);
    l.setUint32(18, body.length, true);
    l.setUint32(22, size, true);
    l.setUint16(26, name.length, true);
    local.set(name, 30);
    local.set(body, 30 + name.length);
    const central = new Uint8Array(46 + name.length);
    const c = view(central);
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(4, 20, true);
    c.setUint16(6, 20, true);
    c.setUint16(10, deflated ? 8 : 0, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, body.length, true);
    c.setUint32(24, size, true);
    c.setUint16(28, name.length, true);
    c.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local);
    centrals.push(central);
    offset += local.length;
  }
  const directorySize = centrals.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const e = view(end);
  e.setUint32(0, 0x06054b50, true);
  e.setUint16(8, items.length, true);
  e.setUint16(10, items.length, true);
  e.setUint32(12, directorySize, true);
  e.setUint32(16, offset, true);
  return concat([...locals, ...centrals, end]);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
