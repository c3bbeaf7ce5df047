import assert from 'node:assert/strict';
import { BufferPool } from '../../src/keras/keras-file/buffer-pool.js';

describe('BufferPool', () => {
  it('gives a returned buffer back for a tensor of about its size, and a new one otherwise', () => {
    const pool = new BufferPool(1024, 4);
    const big = pool.take(4096);
    pool.give([big]);
    assert.equal(pool.take(3000), big, 'within twice the size: reused');
    pool.give([big]);
    assert.notEqual(pool.take(1500), big, 'a buffer over twice the size is not spent on a small tensor');
    assert.notEqual(pool.take(8192), big, 'nor a small buffer on a large one');
    assert.ok(pool.take(8192).byteLength >= 8192);
  });

  it('neither keeps nor hands out small buffers, keeps at most its capacity, and lets all go on clear', () => {
    const pool = new BufferPool(1024, 2);
    pool.give([new ArrayBuffer(100)]);
    assert.equal(pool.idle, 0);
    pool.give([new ArrayBuffer(2048), new ArrayBuffer(2048), new ArrayBuffer(2048)]);
    assert.equal(pool.idle, 2);
    pool.clear();
    assert.equal(pool.idle, 0);
  });
});
