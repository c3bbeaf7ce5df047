import assert from 'node:assert/strict';
import fc from 'fast-check';
import { float32BitsAllFinite, nonFiniteWarning } from '../../src/convert/weight-values.js';

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
