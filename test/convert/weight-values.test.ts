import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nonFiniteWarning } from '../../src/convert/weight-values.js';
import { float32AllFinite, float32BitsAllFinite, SIMD_CHECK_MIN_BYTES, SimdFiniteChecker } from '../../src/convert/finite-check.js';

// The NaN/Inf probe works on the values' bits (an OR per value); it must agree with Number.isFinite on every bit pattern.
describe('float32BitsAllFinite', () => {
  const special = fc.constantFrom(0x7f800000, 0xff800000 | 0, 0x7fc00000, 0x7f800001, 0xffffffff | 0, 0x7f7fffff, 0xff7fffff | 0, 0x00000001, 0x80000000 | 0, 0);
  const word = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), special);

  it('agrees with Number.isFinite over any words and any range of them', () => {
    fc.assert(
      fc.property(fc.array(word, { maxLength: 40 }), fc.nat(), fc.nat(), (list, x, y) => {
        const words = Int32Array.from(list);
        const values = new Float32Array(words.buffer);
        const [from, to] = [x % (words.length + 1), y % (words.length + 1)].sort((a, b) => a - b) as [number, number];
        const expected = Array.from(values.subarray(from, to)).every(Number.isFinite);
        assert.equal(float32BitsAllFinite(words, from, to), expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('nonFiniteWarning counts NaN and infinities, and trusts a reader that checked them (knownFinite)', () => {
    const values = new Float32Array([1, NaN, Infinity, -Infinity, 2]);
    assert.deepEqual(
      { ...nonFiniteWarning(values, 'dense', 'kernel', 'w') },
      { layer: 'dense', weight: 'kernel', nan: 1, infinite: 2, elements: 5, message: 'w holds 1 NaN and 2 infinite values of 5: the model\'s outputs will be NaN or Inf' },
    );
    assert.equal(nonFiniteWarning(new Float32Array([1, -0, 3.4e38]), 'dense', 'kernel', 'w'), undefined);
  });
});

// Large weights are checked in SIMD through a staging area (finite-check.ts): any special value anywhere, any alignment.
describe('SimdFiniteChecker and float32AllFinite', () => {
  const SPECIAL = [NaN, Infinity, -Infinity, new Float32Array(new Int32Array([0x7f800001]).buffer)[0]!, new Float32Array(new Int32Array([0xffffffff | 0]).buffer)[0]!];
  const checker = new SimdFiniteChecker();
  // Sizes around a SIMD block (16 values), the staging area (65,536 values) and the JavaScript/SIMD threshold.
  const sizes = [1, 15, 16, 17, 31, 65_535, 65_536, 65_537, 2 * 65_536 + 3, SIMD_CHECK_MIN_BYTES / 4 - 1, SIMD_CHECK_MIN_BYTES / 4];

  it('finds a NaN or ±Inf at the first, a block-edge, a piece-edge and the last place, and none among extreme finite values', () => {
    for (const size of sizes) {
      const values = new Float32Array(size).map((_, i) => ((i % 7) - 3) * 3.4e38 * 0.25);
      values[size - 1] = -3.4028234e38;
      assert.equal(checker.allFinite(new Uint8Array(values.buffer)), true, `${size} finite values`);
      assert.equal(float32AllFinite(values), true);
      for (const at of new Set([0, 15, 16, 65_535, 65_536, size - 1].filter((i) => i < size))) {
        for (const special of SPECIAL) {
          const copy = values.slice();
          copy[at] = special;
          assert.equal(checker.allFinite(new Uint8Array(copy.buffer)), false, `${special} at ${at} of ${size}`);
          assert.equal(float32AllFinite(copy), false, `${special} at ${at} of ${size}`);
        }
      }
    }
  });

  it('checks values at any byte offset, and ignores a last partial value', () => {
    const values = new Float32Array(40_000).fill(1.5);
    values[39_999] = NaN;
    const bytes = new Uint8Array(values.byteLength + 3);
    bytes.set(new Uint8Array(values.buffer), 1);
    assert.equal(checker.allFinite(bytes.subarray(1, 1 + values.byteLength)), false);
    assert.equal(checker.allFinite(bytes.subarray(1, values.byteLength - 3)), true, 'without the NaN');
    assert.equal(checker.allFinite(bytes.subarray(1, values.byteLength - 1)), true, 'the NaN cut to 2 of its bytes is no value');
  });
});
