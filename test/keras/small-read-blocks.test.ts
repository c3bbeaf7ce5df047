import assert from 'node:assert/strict';
import { closeSync, openSync, truncateSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BLOCK_BYTES, MAX_BLOCKS, SmallReadBlocks } from '../../src/keras/keras-file/small-read-blocks.js';

describe("HDF5's small reads of a host range, served from blocks", () => {
  let tmp: string;
  let file: string;
  // The range's bytes are i % 251 of their offset in the range; around it lie bytes of 0xff, which no read may return.
  const before = 1000;
  const rangeLength = 5 * BLOCK_BYTES + 123;
  const bytes = new Uint8Array(before + rangeLength + 777).fill(0xff);
  for (let i = 0; i < rangeLength; i++) bytes[before + i] = i % 251;
  const expected = (position: number, length: number) => Array.from({ length }, (_, i) => (position + i) % 251);

  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-small-reads-'));
    file = path.join(tmp, 'file.bin');
    await writeFile(file, bytes);
  });
  afterEach(async () => rm(tmp, { recursive: true, force: true }));

  function withBlocks<T>(use: (blocks: SmallReadBlocks) => T): T {
    const fd = openSync(file, 'r');
    try {
      return use(new SmallReadBlocks(fd, before, rangeLength));
    } finally {
      closeSync(fd);
    }
  }

  it('gives the bytes at each position, across block boundaries, into the buffer at its offset', () => {
    withBlocks((blocks) => {
      const cases = [
        [0, 8],
        [BLOCK_BYTES - 3, 10],
        [2 * BLOCK_BYTES - 1, 2],
        [3 * BLOCK_BYTES + 5, 4096],
        [17, 1],
      ] as const;
      for (const [position, length] of cases) {
        const buffer = new Uint8Array(length + 20).fill(7);
        assert.equal(blocks.read(buffer, 10, length, position), length);
        assert.deepEqual(Array.from(buffer.subarray(10, 10 + length)), expected(position, length), `at ${position}`);
        assert.ok(buffer.subarray(0, 10).every((b) => b === 7) && buffer.subarray(10 + length).every((b) => b === 7), 'nothing outside the asked place is written');
      }
    });
  });

  it('stops at the end of the range, never returning the bytes after it', () => {
    withBlocks((blocks) => {
      const buffer = new Uint8Array(100);
      assert.equal(blocks.read(buffer, 0, 100, rangeLength - 40), 40);
      assert.deepEqual(Array.from(buffer.subarray(0, 40)), expected(rangeLength - 40, 40));
      assert.equal(blocks.read(buffer, 0, 10, rangeLength), 0);
    });
  });

  it('reads each block from the file once while it is kept, and at most MAX_BLOCKS are kept', () => {
    withBlocks((blocks) => {
      const buffer = new Uint8Array(64);
      for (let pass = 0; pass < 3; pass++) {
        for (let position = 0; position + 64 <= rangeLength; position += 512) blocks.read(buffer, 0, 64, position);
      }
      assert.equal(blocks.blockReads, Math.ceil(rangeLength / BLOCK_BYTES));
    });
  });

  it('keeps at most MAX_BLOCKS blocks, dropping the least recently used', async () => {
    const big = path.join(tmp, 'big.bin');
    await writeFile(big, new Uint8Array((MAX_BLOCKS + 1) * BLOCK_BYTES));
    const fd = openSync(big, 'r');
    try {
      const readCycle = (blocks: SmallReadBlocks, count: number) => {
        for (let i = 0; i < count; i++) blocks.read(new Uint8Array(1), 0, 1, i * BLOCK_BYTES);
      };
      const kept = new SmallReadBlocks(fd, 0, (MAX_BLOCKS + 1) * BLOCK_BYTES);
      readCycle(kept, MAX_BLOCKS);
      readCycle(kept, MAX_BLOCKS);
      assert.equal(kept.blockReads, MAX_BLOCKS, 'all kept: the second cycle reads nothing');
      const cycling = new SmallReadBlocks(fd, 0, (MAX_BLOCKS + 1) * BLOCK_BYTES);
      readCycle(cycling, MAX_BLOCKS + 1);
      readCycle(cycling, MAX_BLOCKS + 1);
      assert.equal(cycling.blockReads, 2 * (MAX_BLOCKS + 1), 'one more than kept, in a cycle: each block was dropped before it came round again');
    } finally {
      closeSync(fd);
    }
  });

  it('returns a short count where the file shrank under it, as a short read', () => {
    truncateSync(file, before + BLOCK_BYTES + 10);
    withBlocks((blocks) => {
      const buffer = new Uint8Array(100);
      assert.equal(blocks.read(buffer, 0, 100, BLOCK_BYTES), 10);
      assert.deepEqual(Array.from(buffer.subarray(0, 10)), expected(BLOCK_BYTES, 10));
      assert.equal(blocks.read(buffer, 0, 100, 2 * BLOCK_BYTES), 0);
    });
  });
});
