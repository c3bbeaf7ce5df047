import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareTensors, ERROR_HISTOGRAM_DECADES, unravelIndex, type TensorComparison } from '../../src/parity/compare-tensors.js';
import type { Tolerance } from '../../src/parity/tolerance.js';

// Properties of compareTensors, the statistics parity decides by, against the rule its doc
// comments state: an element passes when |a - b| <= atol + rtol * |b|, a tensor (elementwise, the
// default) when every element does and none is NaN or infinite. Each statistic is recomputed here
// independently. KERAS_BRIDGE_FUZZ=1 (npm run fuzz) runs 20 times as many cases.

const FUZZ = process.env['KERAS_BRIDGE_FUZZ'] ?? '';
const RUNS = (/^\d+$/.test(FUZZ) && Number(FUZZ) > 0 ? 20 : 1) * 300;

const finite = fc.float({ noNaN: true, noDefaultInfinity: true });
/** Values that are often close, so that both passing and failing elements occur. */
const shape = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 });
const size = (s: readonly number[]) => s.reduce((n, d) => n * d, 1);
const nearPair = fc.oneof(
  fc.tuple(finite, finite),
  fc.tuple(finite, fc.float({ min: Math.fround(-1e-3), max: Math.fround(1e-3), noNaN: true })).map(([b, d]) => {
    const a = Math.fround(b + d * Math.max(1, Math.abs(b)));
    return [Number.isFinite(a) ? a : b, b] as [number, number];
  }),
  finite.map((b) => [b, b] as [number, number]),
  fc.tuple(fc.float({ min: -10, max: 10, noNaN: true }), fc.float({ min: -10, max: 10, noNaN: true })),
);
const tolerance: fc.Arbitrary<Tolerance> = fc.record({
  atol: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
  rtol: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
});
const tensors = shape.chain((s) =>
  fc.array(nearPair, { minLength: size(s), maxLength: size(s) }).map((pairs) => ({
    shape: s,
    actual: Float32Array.from(pairs.map((p) => p[0])),
    expected: Float32Array.from(pairs.map((p) => p[1])),
  })),
);
/** The same, with NaN and ±Inf mixed in on either side. */
const nonFinite = fc.constantFrom(NaN, Infinity, -Infinity);
const withNonFinite = tensors.chain((t) =>
  fc.tuple(fc.nat(), fc.boolean(), nonFinite).map(([at, inActual, value]) => {
    const actual = t.actual.slice();
    const expected = t.expected.slice();
    (inActual ? actual : expected)[at % actual.length] = value;
    return { ...t, actual, expected };
  }),
);

const compare = (t: { shape: number[]; actual: Float32Array; expected: Float32Array }, tol: Tolerance, statistic?: 'max' | 'mean') =>
  compareTensors(t.actual, t.shape, t.expected, t.shape, tol, statistic ? { statistic } : {});

const allowedAt = (b: number, tol: Tolerance) => tol.atol + tol.rtol * Math.abs(b);
const flatIndex = (index: number[], s: readonly number[]) => index.reduce((flat, i, axis) => flat * s[axis]! + i, 0);

function recount(t: { actual: Float32Array; expected: Float32Array }, tol: Tolerance) {
  let mismatches = 0;
  let maxAbs = 0;
  let maxExcess = -Infinity;
  let finiteCount = 0;
  t.expected.forEach((b, i) => {
    const a = t.actual[i]!;
    if (!Number.isFinite(a) || !Number.isFinite(b)) return void mismatches++;
    finiteCount++;
    const abs = Math.abs(a - b);
    if (abs > allowedAt(b, tol)) mismatches++;
    maxAbs = Math.max(maxAbs, abs);
    maxExcess = Math.max(maxExcess, abs - allowedAt(b, tol));
  });
  return { mismatches, maxAbs, maxExcess, finiteCount };
}

describe('compareTensors: properties of the parity statistics', () => {
  it('a finite tensor compared with itself passes with zero error at any tolerance', () => {
    fc.assert(
      fc.property(tensors, tolerance, (t, tol) => {
        const r = compareTensors(t.expected, t.shape, t.expected, t.shape, tol);
        assert.equal(r.passed, true);
        assert.equal(r.mismatches, 0);
        assert.equal(r.maxAbsError, 0);
        assert.equal(r.maxRelError, 0);
        assert.equal(r.minPassingAtol, 0);
        assert.equal(r.maxToleranceRatio, 0);
        assert.equal(r.errorHistogram[0], t.expected.length);
      }),
      { numRuns: RUNS },
    );
  });

  it('passes exactly when every element satisfies |a - b| <= atol + rtol * |b|, and counts those that do not', () => {
    fc.assert(
      fc.property(fc.oneof(tensors, withNonFinite), tolerance, (t, tol) => {
        const r = compare(t, tol);
        const independent = recount(t, tol);
        assert.equal(r.mismatches, independent.mismatches);
        assert.equal(r.passed, independent.mismatches === 0);
        assert.equal(r.fractionOutOfTolerance, independent.mismatches / t.expected.length);
      }),
      { numRuns: RUNS },
    );
  });

  it('maxAbsError, meanAbsError, maxRelError are those of the finite elements, recomputed', () => {
    fc.assert(
      fc.property(fc.oneof(tensors, withNonFinite), tolerance, (t, tol) => {
        const r = compare(t, tol);
        const pairs = [...t.expected].map((b, i) => [t.actual[i]!, b] as const).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
        const abs = pairs.map(([a, b]) => Math.abs(a - b));
        assert.equal(r.maxAbsError, abs.length ? Math.max(...abs) : 0);
        const mean = abs.length ? abs.reduce((s, v) => s + v, 0) / abs.length : 0;
        assert.ok(Math.abs(r.meanAbsError - mean) <= 1e-12 * Math.max(1, mean), `${r.meanAbsError} vs ${mean}`);
        const rel = pairs.map(([a, b]) => (b !== 0 ? Math.abs(a - b) / Math.abs(b) : a !== b ? Infinity : 0));
        assert.equal(r.maxRelError, rel.length ? Math.max(...rel) : 0);
        assert.ok(r.medianAbsError <= r.maxAbsError && r.quantileAbsError <= r.maxAbsError);
        assert.equal(r.errorHistogram.reduce((s, n) => s + n, 0), abs.length);
      }),
      { numRuns: RUNS },
    );
  });

  it('NaN or an infinity on one side only never passes, whatever the tolerance or statistic', () => {
    fc.assert(
      fc.property(withNonFinite, tolerance, fc.constantFrom(undefined, 'max' as const, 'mean' as const), (t, tol, statistic) => {
        const r = compare(t, { atol: tol.atol * 1e30, rtol: tol.rtol * 1e30 }, statistic);
        assert.equal(r.passed, false);
        assert.ok(r.nonFiniteActual + r.nonFiniteExpected >= 1);
        assert.equal(r.maxToleranceRatio, Infinity);
      }),
      { numRuns: RUNS },
    );
  });

  it('the error statistics are symmetric in actual and expected; with rtol 0 so is the verdict', () => {
    fc.assert(
      fc.property(fc.oneof(tensors, withNonFinite), tolerance, (t, tol) => {
        const forward = compare(t, tol);
        const backward = compare({ ...t, actual: t.expected, expected: t.actual }, tol);
        for (const key of ['maxAbsError', 'medianAbsError', 'quantileAbsError'] as const) assert.equal(forward[key], backward[key], key);
        assert.ok(Math.abs(forward.meanAbsError - backward.meanAbsError) <= 1e-12 * Math.max(1, forward.meanAbsError));
        const noRtol = { atol: tol.atol, rtol: 0 };
        assert.equal(compare(t, noRtol).passed, compare({ ...t, actual: t.expected, expected: t.actual }, noRtol).passed);
      }),
      { numRuns: RUNS },
    );
  });

  it('the worst element is one with the largest excess over its bound, reported at its index', () => {
    fc.assert(
      fc.property(fc.oneof(tensors, withNonFinite), tolerance, (t, tol) => {
        const r = compare(t, tol);
        const independent = recount(t, tol);
        if (independent.finiteCount === 0) return assert.equal(r.worst, null);
        const worst = r.worst!;
        const at = flatIndex(worst.index, t.shape);
        assert.deepEqual(unravelIndex(at, t.shape), worst.index);
        assert.equal(worst.actual, t.actual[at]);
        assert.equal(worst.expected, t.expected[at]);
        assert.equal(worst.allowed, allowedAt(t.expected[at]!, tol));
        assert.equal(Math.abs(worst.actual - worst.expected) - worst.allowed, independent.maxExcess);
      }),
      { numRuns: RUNS },
    );
  });

  it('minPassingAtol, with the same rtol, passes every finite element, and nothing smaller does', () => {
    fc.assert(
      fc.property(tensors, tolerance, (t, tol) => {
        const r = compare(t, tol);
        const atol = r.minPassingAtol;
        const needed = [...t.expected].map((b, i) => Math.abs(t.actual[i]! - b) - tol.rtol * Math.abs(b));
        assert.equal(atol, Math.max(0, ...needed));
        assert.equal(compare(t, { atol, rtol: tol.rtol }).passed, true, `atol ${atol} rtol ${tol.rtol}`);
        // Smaller by more than the rounding of atol + rtol * |b|: some element fails.
        const below = atol * (1 - 1e-6);
        const largestBound = Math.max(...[...t.expected].map((b) => atol + tol.rtol * Math.abs(b)));
        if (atol - below > 4 * Number.EPSILON * largestBound) {
          assert.equal(compare(t, { atol: below, rtol: tol.rtol }).passed, false, `atol ${below} rtol ${tol.rtol}`);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('maxToleranceRatio is at most 1 exactly when a finite comparison passes', () => {
    fc.assert(
      fc.property(tensors, tolerance, (t, tol) => {
        const r = compare(t, tol);
        assert.equal(r.maxToleranceRatio <= 1, r.passed, `ratio ${r.maxToleranceRatio}, passed ${r.passed}`);
      }),
      { numRuns: RUNS },
    );
  });

  it("the 'max' statistic passes exactly when maxAbsError <= atol or maxRelError <= rtol", () => {
    fc.assert(
      fc.property(tensors, tolerance, (t, tol) => {
        const r = compare(t, tol, 'max');
        assert.equal(r.passed, r.maxAbsError <= tol.atol || r.maxRelError <= tol.rtol);
      }),
      { numRuns: RUNS },
    );
  });

  it('a shape mismatch never passes', () => {
    fc.assert(
      fc.property(tensors, shape, tolerance, (t, other, tol) => {
        fc.pre(other.join() !== t.shape.join());
        const r: TensorComparison = compareTensors(t.actual, other, t.expected, t.shape, tol);
        assert.equal(r.passed, false);
        assert.match(r.shapeMismatch!, /shape \[.*\] != expected \[.*\]/);
      }),
      { numRuns: RUNS },
    );
  });

  it('histogram buckets hold the errors of their decade', () => {
    fc.assert(
      fc.property(tensors, (t) => {
        const r = compare(t, { atol: 0, rtol: 0 });
        const expected = new Array<number>(r.errorHistogram.length).fill(0);
        t.expected.forEach((b, i) => {
          const abs = Math.abs(t.actual[i]! - b);
          // The decade d with 10^d <= abs < 10^(d+1), 10^d as the double nearest it (what the bucket's doc says).
          let decade = ERROR_HISTOGRAM_DECADES.first;
          while (decade < 0 && Number(`1e${decade + 1}`) <= abs) decade++;
          expected[abs === 0 ? 0 : decade >= 0 ? expected.length - 1 : decade - ERROR_HISTOGRAM_DECADES.first + 1]!++;
        });
        assert.deepEqual(r.errorHistogram, expected);
      }),
      { numRuns: RUNS },
    );
  });
});
