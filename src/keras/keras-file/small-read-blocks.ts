import { descriptorSource, type ByteSource } from './zip/byte-source.js';

/** Reads up to this size are served from blocks; larger ones (a dataset's bytes) go to the file. */
export const SMALL_READ_BYTES = 4096;
export const BLOCK_BYTES = 16 * 1024;
/** Blocks kept, the least recently used dropped first: 4 MB. */
export const MAX_BLOCKS = 256;

/**
 * HDF5's small reads of a host file's range, served from 16 KB blocks of it read whole. HDF5 reads
 * its metadata (object headers, B-tree nodes, local heaps) a few hundred bytes at a time, each a
 * system call: checking ResNet50's weights file made 1,898 reads, all under 4 KB, within 114
 * distinct 16 KB blocks. Never reads outside the range: a block ends where the range does, and
 * one cut short by a file that shrank serves what it holds (HDF5 then sees a short read).
 */
export class SmallReadBlocks {
  /** By block index, in order of last use (a Map keeps insertion order). */
  private readonly blocks = new Map<number, Uint8Array>();
  /** System reads made, for tests. */
  blockReads = 0;

  private readonly source: ByteSource;

  constructor(
    fd: number,
    private readonly start: number,
    private readonly length: number,
  ) {
    this.source = descriptorSource(fd);
  }

  /** Copies bytes [position, position + wanted) of the range into `buffer` at `offset`; the count copied. */
  read(buffer: Uint8Array, offset: number, wanted: number, position: number): number {
    let done = 0;
    while (done < wanted) {
      const at = position + done;
      const index = Math.floor(at / BLOCK_BYTES);
      const block = this.block(index);
      const within = at - index * BLOCK_BYTES;
      if (within >= block.length) break;
      const count = Math.min(wanted - done, block.length - within);
      buffer.set(block.subarray(within, within + count), offset + done);
      done += count;
      // A block shorter than its share of the range: the file ended early.
      if (within + count === block.length && block.length < this.blockLength(index)) break;
    }
    return done;
  }

  private block(index: number): Uint8Array {
    const cached = this.blocks.get(index);
    if (cached) {
      this.blocks.delete(index);
      this.blocks.set(index, cached);
      return cached;
    }
    // Short where the file ended early.
    const block = this.source.read(this.start + index * BLOCK_BYTES, this.blockLength(index));
    this.blockReads++;
    if (this.blocks.size >= MAX_BLOCKS) this.blocks.delete(this.blocks.keys().next().value!);
    this.blocks.set(index, block);
    return block;
  }

  private blockLength(index: number): number {
    return Math.max(0, Math.min(BLOCK_BYTES, this.length - index * BLOCK_BYTES));
  }
}
