import { unsupported } from './lite-unsupported.js';

/** An HDF5 file's bytes as the reader sees them: reads within `length`, or refused. */
export interface LiteSource {
  readonly length: number;
  /** Bytes [address, address + length): all of them, or LiteUnsupported (past the end, or a short read). */
  read(address: number, length: number): Uint8Array;
}

/** Reads of at most this many bytes of metadata at once (a B-tree node, a heap, a header block). */
export const MAX_METADATA_READ = 16 * 1024 * 1024;

/** The file's bytes in memory. */
export function bytesSource(bytes: Uint8Array): LiteSource {
  return {
    length: bytes.length,
    read(address, length) {
      checkRead(address, length, bytes.length);
      return bytes.subarray(address, address + length);
    },
  };
}

/** Bytes through `readAt` (a host range's blocks), each read checked against the file's length first. */
export function rangeSource(length: number, readAt: (buffer: Uint8Array, address: number) => number): LiteSource {
  return {
    length,
    read(address, wanted) {
      checkRead(address, wanted, length);
      const out = new Uint8Array(wanted);
      if (readAt(out, address) !== wanted) unsupported(`short read at ${address}`);
      return out;
    },
  };
}

function checkRead(address: number, length: number, fileLength: number): void {
  if (!Number.isSafeInteger(address) || !Number.isSafeInteger(length) || address < 0 || length < 0 || length > MAX_METADATA_READ || address + length > fileLength) {
    unsupported(`a read of ${length} bytes at ${address}, outside the file's ${fileLength}`);
  }
}

/** "Undefined address": all bits set. */
export const UNDEFINED_ADDRESS = Number.MAX_SAFE_INTEGER + 1;

/**
 * Little-endian fields read in order from a piece of metadata; running past its end is
 * LiteUnsupported. Offsets and lengths are 8 bytes (the superblock says so, or the file is refused).
 */
export class FieldReader {
  at = 0;
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array, private readonly what: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.at;
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.at++);
  }

  u16(): number {
    this.need(2);
    const value = this.view.getUint16(this.at, true);
    this.at += 2;
    return value;
  }

  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.at, true);
    this.at += 4;
    return value;
  }

  /** An 8-byte offset or length; all bits set is UNDEFINED_ADDRESS; another value past 2^53 is refused. */
  u64(): number {
    this.need(8);
    const low = this.view.getUint32(this.at, true);
    const high = this.view.getUint32(this.at + 4, true);
    this.at += 8;
    if (low === 0xffffffff && high === 0xffffffff) return UNDEFINED_ADDRESS;
    if (high >= 0x200000) unsupported(`${this.what}: a 64-bit value past 2^53`);
    return high * 0x100000000 + low;
  }

  take(length: number): Uint8Array {
    this.need(length);
    const piece = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return piece;
  }

  skip(length: number): void {
    this.need(length);
    this.at += length;
  }

  /** Checks a signature of ASCII letters ("TREE", "SNOD", …). */
  signature(expected: string): void {
    const got = String.fromCharCode(...this.take(expected.length));
    if (got !== expected) unsupported(`${this.what}: signature '${expected}' expected`);
  }

  private need(length: number): void {
    if (length < 0 || this.at + length > this.bytes.length) unsupported(`${this.what}: ends early`);
  }
}
