import assert from 'node:assert/strict';
import { quantileOf } from '../../src/parity/compare-tensors.js';
import { quantileBySelection } from '../../src/parity/order-statistics.js';

/** A deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('quantiles by selection (compare-tensors: median and high quantile of errors)', () => {
  // What error arrays look like: mostly exact matches (0), few distinct float32 roundings, a tail,
  // an Infinity (relative error over an expected 0); and sorted or reversed input.
  const kinds: Record<string, (next: () => number, n: number) => number[]> = {
    uniform: (next, n) => Array.from({ length: n }, next),
    'mostly zeros': (next, n) => Array.from({ length: n }, () => (next() < 0.9 ? 0 : next() * 1e-7)),
    'few distinct values': (next, n) => Array.from({ length: n }, () => [0, 2 ** -24, 2 ** -23, 3 * 2 ** -24][Math.floor(next() * 4)]!),
    'heavy tail and Infinity': (next, n) => Array.from({ length: n }, (_, i) => (i === 0 ? Infinity : next() ** 8 * 1e3)),
    sorted: (next, n) => Array.from({ length: n }, next).sort((a, b) => a - b),
    reversed: (next, n) => Array.from({ length: n }, next).sort((a, b) => b - a),
    'all equal': (_next, n) => new Array<number>(n).fill(1e-7),
  };
  for (const [kind, make] of Object.entries(kinds)) {
    it(`gives exactly the sorted array's quantile: ${kind}`, () => {
      const next = random(kind.length * 7919);
      for (const n of [0, 1, 2, 3, 10, 101, 1000, 4097]) {
        const values = make(next, n);
        const sorted = [...values].sort((a, b) => a - b);
        for (const q of [0, 0.01, 0.25, 0.5, 0.9, 0.99, 1]) {
          // Where the rank is exact and its value Infinity, interpolating gives Infinity - Infinity
          // = NaN; selection returns the order statistic itself.
          const position = (n - 1) * q;
          const expected = n > 0 && Number.isInteger(position) && sorted[position] === Infinity ? Infinity : quantileOf(sorted, q);
          const actual = quantileBySelection(Float64Array.from(values), q);
          assert.ok(Object.is(actual, expected), `${kind}, n ${n}, q ${q}: ${actual} != ${expected}`);
        }
      }
    });
  }

  it('handles a million equal values (three-way partitioning; a two-way quickselect would run past the test timeout)', () => {
    assert.equal(quantileBySelection(new Float64Array(1_000_000), 0.99), 0);
    assert.equal(quantileBySelection(new Float64Array(1_000_000).fill(3), 0.5), 3);
  });
});
