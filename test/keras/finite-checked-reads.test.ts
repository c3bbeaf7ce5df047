import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CHECKED_READ_BYTES, FiniteCheckedReads } from '../../src/keras/keras-file/finite-checked-reads.js';

// The HDF5 reader's landed reads (hdf5-file.ts landDirectly): bytes as the file has them, and every
// NaN or ±Inf found, in the SIMD blocks of 64 bytes and in the words after the last whole block.
describe('FiniteCheckedReads: float32 reads checked in WebAssembly SIMD on the way to the buffer', () => {
  let dir: string;
  before(() => void (dir = mkdtempSync(path.join(tmpdir(), 'kb-checked-reads-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const withFile = <T>(values: Float32Array, run: (fd: number) => T): T => {
    const file = path.join(dir, 'values.bin');
    writeFileSync(file, new Uint8Array(values.buffer));
    const fd = openSync(file, 'r');
    try {
      return run(fd);
    } finally {
      closeSync(fd);
    }
  };
  const reader = new FiniteCheckedReads();
  // Values of every size: 0, tiny and huge magnitudes, denormals and -0 are all finite.
  const finiteValues = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => [3.4028235e38, -3.4028235e38, 1e-45, -0, 0, 1.5, -7e-39][i % 7]! * (i % 11 === 3 ? 1 : -1));

  for (const count of [1, 15, 16, 17, 33, 64, 1000, CHECKED_READ_BYTES / 4]) {
    it(`${count} float32s: the bytes as in the file; a NaN, +Inf or -Inf found at the first, the last and every 16th-block edge value`, () => {
      const values = finiteValues(count);
      withFile(values, (fd) => {
        const { piece, allFinite } = reader.read(fd, count * 4, 0);
        assert.equal(allFinite, true);
        assert.deepEqual(piece, new Uint8Array(values.buffer));
      });
      const places = [...new Set([0, count - 1, 15, 16, 17, count - 2, Math.floor(count / 16) * 16 - 1].filter((i) => i >= 0 && i < count))];
      for (const place of places) {
        for (const bad of [NaN, Infinity, -Infinity]) {
          const values = finiteValues(count);
          values[place] = bad;
          withFile(values, (fd) => assert.equal(reader.read(fd, count * 4, 0).allFinite, false, `${bad} at ${place} of ${count}`));
        }
      }
    });
  }

  it('reads from `position`, stops short where the file ends, refuses more than its staging area, and checks nothing for other dtypes', () => {
    const values = finiteValues(100);
    values[99] = NaN;
    withFile(values, (fd) => {
      const first = reader.read(fd, 40, 40);
      assert.equal(first.allFinite, true);
      assert.deepEqual(first.piece, new Uint8Array(values.buffer, 40, 40));
      const short = reader.read(fd, 400, 200);
      assert.equal(short.allFinite, false);
      assert.deepEqual(short.piece, new Uint8Array(values.buffer, 200, 200));
      const notFloat = reader.read(fd, 40, 0, false);
      assert.deepEqual(notFloat, { piece: new Uint8Array(values.buffer, 0, 40), allFinite: false });
      assert.throws(() => reader.read(fd, CHECKED_READ_BYTES + 4, 0), RangeError);
    });
  });
});
