import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * A file's bytes, read a range at a time: the zip reader reads the records it checks (end record,
 * central directory, local headers) and the entries it parses, never a whole model file.
 */
export interface ByteSource {
  readonly size: number;
  /**
   * Bytes [start, start + length), which must lie inside the file; into `into` when given (a
   * buffer reused across reads), else a new one or a view.
   */
  read(start: number, length: number, into?: Uint8Array): Uint8Array;
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (start, length) => bytes.subarray(start, start + length) };
}

/** A host file opened read-only, until `close`. Reads past its end (it shrank) come back short. */
export function fileSource(path: string): ByteSource & { close(): void } {
  const fd = openSync(path, 'r');
  return { ...descriptorSource(fd), close: () => closeSync(fd) };
}

/**
 * The file an open descriptor reads (its size when made), which the caller keeps open and closes:
 * the very file, even where its path was since moved or replaced. Reads past its end come back short.
 */
export function descriptorSource(fd: number): ByteSource {
  const size = fstatSync(fd).size;
  return {
    size,
    read(start, length, into) {
      const wanted = Math.max(0, Math.min(length, size - start));
      const bytes = into && into.length >= wanted ? into.subarray(0, wanted) : new Uint8Array(wanted);
      let done = 0;
      while (done < bytes.length) {
        const got = readSync(fd, bytes, done, bytes.length - done, start + done);
        if (got === 0) break;
        done += got;
      }
      return bytes.subarray(0, done);
    },
  };
}

/**
 * Bytes read from `base` on, addressed by their offset in the file: the zip records' fields are
 * read at the file offsets the format gives (and messages name), whatever part of the file is in hand.
 */
export class ByteWindow {
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly base: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  static read(source: ByteSource, start: number, length: number): ByteWindow {
    return new ByteWindow(source.read(start, length), start);
  }

  /** One past the last file offset in hand. */
  get end(): number {
    return this.base + this.bytes.length;
  }

  getUint16(at: number, littleEndian: boolean): number {
    return this.view.getUint16(at - this.base, littleEndian);
  }

  getUint32(at: number, littleEndian: boolean): number {
    return this.view.getUint32(at - this.base, littleEndian);
  }

  getBigUint64(at: number, littleEndian: boolean): bigint {
    return this.view.getBigUint64(at - this.base, littleEndian);
  }

  subarray(start: number, end: number): Uint8Array {
    return this.bytes.subarray(start - this.base, end - this.base);
  }
}
