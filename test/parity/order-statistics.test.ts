import assert from 'node:assert/strict';
import { quantileOf } from '../../src/parity/compare-tensors.js';
import { quantileBySelection, quantilesBySelection } from '../../src/parity/order-statistics.js';

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

  it('gives several quantiles at once as one at a time gives each, on errors and on values of either sign', () => {
    const next = random(17);
    const qs = [0, 0.5, 0.9, 0.99, 1];
    // Negative values (and -0) take the quickselect path; errors, never negative, the counting one.
    for (const make of [() => next() * 1e-6, () => next() - 0.5, () => (next() < 0.5 ? -0 : next())]) {
      for (const n of [1, 2, 7, 5000]) {
        const values = Array.from({ length: n }, make);
        const together = quantilesBySelection(Float64Array.from(values), qs);
        // === where Object.is would tell -0 from 0, which compare equal and may come out either way.
        qs.forEach((q, i) => assert.ok(together[i] === quantileBySelection(Float64Array.from(values), q), `n ${n}, q ${q}`));
        const sorted = [...values].sort((a, b) => a - b);
        qs.forEach((q, i) => assert.ok(together[i] === quantileOf(sorted, q), `n ${n}, q ${q}: ${together[i]} against the sorted array's ${quantileOf(sorted, q)}`));
      }
    }
  });

  it('finds ranks that fall in one crowded bucket (values sharing their top 16 bits)', () => {
    // 1 + k·2^-40: one sign, exponent and top mantissa bits, so one bucket holds them all.
    const values = Array.from({ length: 10_000 }, (_, k) => 1 + ((k * 7919) % 10_000) * 2 ** -40);
    const sorted = [...values].sort((a, b) => a - b);
    assert.deepEqual(quantilesBySelection(Float64Array.from(values), [0.25, 0.5, 0.99]), [0.25, 0.5, 0.99].map((q) => quantileOf(sorted, q)));
  });
});
