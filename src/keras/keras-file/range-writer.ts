import { closeSync, constants, openSync, writeSync } from 'node:fs';
import type { FileRange } from '../../convert/weight-data.js';

/**
 * Writes a dataset's bytes, piece by piece in any order, into file ranges laid end to end: byte
 * `at` of the dataset goes to the range that holds it. The files must exist (they are a
 * conversion's shards, made by its ShardWriter): they are opened read-write, never created,
 * truncated or followed through a symbolic link, and each once, until `close`.
 */
export class RangeWriter {
  readonly length: number;
  private readonly fds = new Map<string, number>();

  constructor(private readonly ranges: readonly FileRange[]) {
    this.length = ranges.reduce((n, r) => n + r.length, 0);
  }

  /** `piece` as the dataset's bytes from `at`. */
  put(piece: Uint8Array, at: number): void {
    const end = at + piece.length;
    if (end > this.length) throw new RangeError(`bytes ${at}-${end} past the ${this.length} the ranges hold`);
    let rangeStart = 0;
    for (const range of this.ranges) {
      const from = Math.max(at, rangeStart);
      const to = Math.min(end, rangeStart + range.length);
      if (from < to) {
        const fd = this.fd(range.path);
        for (let done = from; done < to; ) done += writeSync(fd, piece, done - at, to - done, range.position + (done - rangeStart));
      }
      rangeStart += range.length;
      if (rangeStart >= end) return;
    }
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  private fd(path: string): number {
    let fd = this.fds.get(path);
    // Read-write, never created, and not through a symbolic link put in the file's place.
    if (fd === undefined) this.fds.set(path, (fd = openSync(path, constants.O_RDWR | constants.O_NOFOLLOW)));
    return fd;
  }
}
