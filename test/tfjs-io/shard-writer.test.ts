import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ShardWriter, shardPaths } from '../../src/tfjs-io/shard-writer.js';

describe('ShardWriter', () => {
  let tmp: string;
  beforeEach(async () => (tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-shards-'))));
  afterEach(async () => rm(tmp, { recursive: true, force: true }));

  it("names shards as tfjs's converter does, one empty shard for a model without weights", () => {
    assert.deepEqual(shardPaths(0, 4), ['group1-shard1of1.bin']);
    assert.deepEqual(shardPaths(8, 4), ['group1-shard1of2.bin', 'group1-shard2of2.bin']);
    assert.deepEqual(shardPaths(9, 4), ['group1-shard1of3.bin', 'group1-shard2of3.bin', 'group1-shard3of3.bin']);
  });

  it('splits pieces of any size where shards end, and the shards hold the bytes in order', async () => {
    const all = Uint8Array.from({ length: 23 }, (_, i) => i);
    const writer = new ShardWriter(tmp, all.length, 5);
    for (const [from, to] of [[0, 3], [3, 3], [3, 14], [14, 15], [15, 23]] as const) await writer.write(all.subarray(from, to));
    await writer.finish();
    assert.deepEqual(readdirSync(tmp).sort(), [...writer.paths].sort());
    const shards = writer.paths.map((p) => readFileSync(path.join(tmp, p)));
    assert.deepEqual(shards.map((s) => s.length), [5, 5, 5, 5, 3]);
    assert.deepEqual([...Buffer.concat(shards)], [...all]);
  });

  it('reserves the places of bytes for another writer, between pieces it writes itself, split where shards end', async () => {
    const all = Uint8Array.from({ length: 23 }, (_, i) => i);
    const writer = new ShardWriter(tmp, all.length, 5);
    const reserved: Array<{ from: number; ranges: ReturnType<ShardWriter['reserve']> }> = [];
    // Written: 0-3, 9-10 and 21-23; reserved: 3-9 (over a shard's end), 10-21 (three shards), and nothing.
    await writer.write(all.subarray(0, 3));
    reserved.push({ from: 3, ranges: writer.reserve(6) });
    await writer.write(all.subarray(9, 10));
    reserved.push({ from: 10, ranges: writer.reserve(11) });
    assert.deepEqual(writer.reserve(0), []);
    await writer.write(all.subarray(21, 23));
    const at = (shard: number) => path.join(tmp, writer.paths[shard]!);
    assert.deepEqual(reserved.map((r) => r.ranges), [
      [{ path: at(0), position: 3, length: 2 }, { path: at(1), position: 0, length: 4 }],
      [{ path: at(2), position: 0, length: 5 }, { path: at(3), position: 0, length: 5 }, { path: at(4), position: 0, length: 1 }],
    ]);
    // Whoever took the ranges writes them (in any order, after the writer went past).
    for (const { from, ranges } of reserved.reverse()) {
      let offset = from;
      for (const range of ranges) {
        const fd = openSync(range.path, 'r+');
        writeSync(fd, all, offset, range.length, range.position);
        closeSync(fd);
        offset += range.length;
      }
    }
    await writer.finish();
    assert.deepEqual([...Buffer.concat(writer.paths.map((p) => readFileSync(path.join(tmp, p))))], [...all]);
    assert.throws(() => new ShardWriter(tmp + '-other', 4, 5).reserve(5), /weight bytes past the 4 the manifest declares/);
  });

  it('writes the one empty shard of a model without weights', async () => {
    const writer = new ShardWriter(tmp, 0, 5);
    await writer.finish();
    assert.equal(readFileSync(path.join(tmp, 'group1-shard1of1.bin')).length, 0);
  });

  it('refuses more bytes than declared, and finishing short of them', async () => {
    const writer = new ShardWriter(tmp, 4, 5);
    await assert.rejects(writer.write(new Uint8Array(5)), /weight bytes past the 4 the manifest declares/);
    await writer.write(new Uint8Array(3));
    await assert.rejects(writer.finish(), /3 weight bytes written of the 4 the manifest declares/);
    await writer.abort();
  });
});
