import assert from 'node:assert/strict';
import { compareTensors, unravelIndex } from '../../src/parity/compare-tensors.js';

describe('compareTensors', () => {
  const tol = { atol: 1e-5, rtol: 1e-4 };

  it('passes elements within atol + rtol * |expected|', () => {
    const r = compareTensors([1.00009, 2], [2], [1, 2], [2], tol);
    assert.equal(r.passed, true);
    assert.equal(r.mismatches, 0);
    assert.ok(Math.abs(r.maxAbsError - 9e-5) < 1e-9);
  });

  it('counts mismatches and reports the worst element with its index and allowed bound', () => {
    const r = compareTensors([0, 0, 0.5, 1], [2, 2], [0, 0, 0.4, 1.001], [2, 2], tol);
    assert.equal(r.passed, false);
    assert.equal(r.mismatches, 2);
    assert.deepEqual(r.worst?.index, [1, 0]);
    assert.equal(r.worst?.expected, 0.4);
    assert.ok(Math.abs(r.worst!.allowed - (1e-5 + 1e-4 * 0.4)) < 1e-12);
  });

  it('tells the smallest atol that would have passed', () => {
    const r = compareTensors([1.1], [1], [1], [1], tol);
    assert.ok(Math.abs(r.minPassingAtol - (0.1 - 1e-4)) < 1e-9);
    const again = compareTensors([1.1], [1], [1], [1], { atol: r.minPassingAtol * (1 + 1e-9), rtol: tol.rtol });
    assert.equal(again.passed, true);
  });

  it('never passes NaN or Inf, on either side', () => {
    assert.equal(compareTensors([NaN], [1], [NaN], [1], tol).passed, false);
    const inf = compareTensors([Infinity, 1], [2], [1, 1], [2], tol);
    assert.equal(inf.passed, false);
    assert.equal(inf.nonFiniteActual, 1);
    assert.equal(compareTensors([1], [1], [Infinity], [1], tol).nonFiniteExpected, 1);
  });

  it('fails on a shape mismatch and says so', () => {
    const r = compareTensors([1, 2], [2, 1], [1, 2], [1, 2], tol);
    assert.equal(r.passed, false);
    assert.match(r.shapeMismatch ?? '', /\[2, 1\] != expected \[1, 2\]/);
  });

  it('gives an infinite relative error where expected is zero and actual is not', () => {
    assert.equal(compareTensors([1e-7], [1], [0], [1], tol).maxRelError, Infinity);
  });

  it('unravels flat indices in row-major order', () => {
    assert.deepEqual(unravelIndex(5, [2, 3]), [1, 2]);
    assert.deepEqual(unravelIndex(0, [4]), [0]);
  });
});

describe('compareTensors statistics', () => {
  const tol = { atol: 1e-3, rtol: 0 };
  const expected = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const actual = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5];

  it('reports mean, median, a high quantile and the fraction out of tolerance', () => {
    const r = compareTensors(actual, [10], expected, [10], tol, { quantile: 0.9 });
    assert.equal(r.meanAbsError, 0.05);
    assert.equal(r.medianAbsError, 0);
    assert.ok(Math.abs(r.quantileAbsError - 0.05) < 1e-12); // 0.9 * 9 = 8.1: 10% of the way to 0.5
    assert.equal(r.fractionOutOfTolerance, 0.1);
  });

  it('decides by the selected statistic: one outlier fails elementwise and max, passes median', () => {
    assert.equal(compareTensors(actual, [10], expected, [10], tol).passed, false);
    assert.equal(compareTensors(actual, [10], expected, [10], tol, { statistic: 'max' }).passed, false);
    assert.equal(compareTensors(actual, [10], expected, [10], tol, { statistic: 'median' }).passed, true);
    assert.equal(compareTensors(actual, [10], expected, [10], tol, { statistic: 'mean' }).passed, false);
  });

  it('never passes NaN whatever the statistic', () => {
    assert.equal(compareTensors([NaN, 0, 0], [3], [0, 0, 0], [3], tol, { statistic: 'median' }).passed, false);
  });

  it('puts an error of exactly a power of ten in the decade it begins, and the double below it in the decade before', () => {
    const histogram = (error: number) => compareTensors([error], [1], [0], [1], { atol: 0, rtol: 0 }).errorHistogram;
    const bucketOf = (error: number) => histogram(error).indexOf(1);
    const below = (x: number) => x - x * 2 ** -53; // the double just under a positive x (x is no power of two)
    // Bucket 0: exact; 1: under 1e-11; 2: [1e-11, 1e-10); ...; 12: [0.1, 1); 13: 1 and above.
    assert.equal(bucketOf(0), 0);
    assert.equal(bucketOf(1e-300), 1);
    assert.equal(bucketOf(below(1e-11)), 1);
    assert.equal(bucketOf(1e-11), 2);
    assert.equal(bucketOf(1e-7), 6);
    assert.equal(bucketOf(below(1e-7)), 5);
    assert.equal(bucketOf(0.1), 12);
    assert.equal(bucketOf(0.999), 12);
    assert.equal(bucketOf(1), 13);
    assert.equal(bucketOf(3e38), 13);
    // Two finite values whose difference overflows: an infinite error, in the last bucket.
    assert.deepEqual(compareTensors([1e308], [1], [-1e308], [1], { atol: 0, rtol: 0 }).errorHistogram.slice(-1), [1]);
  });
});
