import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { FileRange } from '../convert/weight-data.js';

/** The shard file names tfjs's own converter gives a model of `totalBytes` in shards of `shardBytes` (one, empty, for none). */
export function shardPaths(totalBytes: number, shardBytes: number): string[] {
  const count = Math.max(1, Math.ceil(totalBytes / shardBytes));
  return Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
}

/**
 * The most one write() call hands the system. Measured on the 2-core machine of
 * docs/performance.md: 1 GB written from a 64 MB buffer in 256 KB calls took 0.25 s; in 4 MB calls,
 * 2.3 s (a call's bytes no longer fit the CPU's cache while the kernel copies them).
 */
const WRITE_CALL_BYTES = 256 * 1024;

/**
 * Writes a model's weight bytes, given in order and in pieces of any size, into its shard files:
 * each piece goes to disk as it comes (split where a shard ends), so a model of any size is written
 * holding no more than the piece in hand; or reserves the next bytes' places for another thread to
 * write (reserve). Writes are synchronous: the weights' reads go on in the
 * HDF5 reader's thread meanwhile, and a thread-pool round trip per call would cost more than the call.
 */
export class ShardWriter {
  readonly paths: string[];
  private shard = -1;
  private fd: number | undefined;
  private inShard = 0;
  private written = 0;

  constructor(
    private readonly dir: string,
    private readonly totalBytes: number,
    private readonly shardBytes: number,
  ) {
    this.paths = shardPaths(totalBytes, shardBytes);
  }

  write(bytes: Uint8Array): Promise<void> {
    try {
      this.writeNow(bytes);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  /** Closes the last shard; every declared byte must have been written (an empty model gets its one empty shard). */
  finish(): Promise<void> {
    if (this.written !== this.totalBytes) return Promise.reject(new Error(`${this.written} weight bytes written of the ${this.totalBytes} the manifest declares`));
    try {
      if (this.fd === undefined) this.nextShard();
      closeSync(this.fd!);
      this.fd = undefined;
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  /** Closes what is open after a failure (the directory is discarded). */
  abort(): Promise<void> {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // already failing: the first error is the one reported
      }
      this.fd = undefined;
    }
    return Promise.resolve();
  }

  /**
   * The next `length` bytes' places in the shards, for someone else to write (a model file's
   * reader thread: weight-stream.ts): each shard they reach is created now, and they count as
   * written. The files stay where they are until finish; whoever writes the ranges must be done by then.
   */
  reserve(length: number): FileRange[] {
    const ranges: FileRange[] = [];
    this.advance(length, Infinity, (position, take) => ranges.push({ path: path.join(this.dir, this.paths[this.shard]!), position, length: take }));
    return ranges;
  }

  private writeNow(bytes: Uint8Array): void {
    // At the shard's own position: ranges reserved before were written through other descriptors.
    this.advance(bytes.length, WRITE_CALL_BYTES, (position, take, offset) => {
      for (let done = 0; done < take; ) done += writeSync(this.fd!, bytes, offset + done, take - done, position + done);
    });
  }

  /**
   * The next `length` bytes, in pieces of at most `piece` that end where shards end: each handed to
   * `each` (its position in the current shard, its length, its offset in the whole), then counted
   * as written. Each shard is created as the bytes reach it.
   */
  private advance(length: number, piece: number, each: (position: number, take: number, offset: number) => void): void {
    if (this.written + length > this.totalBytes) {
      throw new Error(`weight bytes past the ${this.totalBytes} the manifest declares`);
    }
    for (let offset = 0; offset < length; ) {
      if (this.fd === undefined || this.inShard === this.shardBytes) this.nextShard();
      const take = Math.min(length - offset, this.shardBytes - this.inShard, piece);
      each(this.inShard, take, offset);
      offset += take;
      this.inShard += take;
      this.written += take;
    }
  }

  private nextShard(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.shard++;
    this.fd = openSync(path.join(this.dir, this.paths[this.shard]!), 'wx');
    this.inShard = 0;
  }
}
