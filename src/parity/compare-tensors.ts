import { HIGH_WORD } from './float64-words.js';
import { quantileBySelection, quantilesBySelection } from './order-statistics.js';
import type { Tolerance } from './tolerance.js';

/**
 * Which statistic decides pass/fail. 'elementwise' (the default): every element satisfies
 * |a - b| <= atol + rtol * |b|. The others reduce the errors first and pass when the statistic
 * of the absolute errors is <= atol or that of the relative errors is <= rtol.
 */
export type DecisionStatistic = 'elementwise' | 'max' | 'mean' | 'median' | 'quantile';
export const DECISION_STATISTICS: readonly DecisionStatistic[] = ['elementwise', 'max', 'mean', 'median', 'quantile'];

export interface CompareOptions {
  statistic?: DecisionStatistic;
  /** For 'quantile' and the reported high quantile; default 0.99. */
  quantile?: number;
}

/** Per-tensor statistics of actual vs expected, as plain serializable data. */
export interface TensorComparison {
  shape: number[];
  elements: number;
  tolerance: Tolerance;
  statistic: DecisionStatistic;
  passed: boolean;
  /** Elements outside atol + rtol * |expected| (non-finite ones included). */
  mismatches: number;
  /** mismatches / elements. */
  fractionOutOfTolerance: number;
  maxAbsError: number;
  meanAbsError: number;
  medianAbsError: number;
  /** The `quantile` (default 0.99) of the absolute errors. */
  quantileAbsError: number;
  quantile: number;
  /** max |a - b| / |b| over elements with b != 0 (Infinity where b == 0 and a != 0). */
  maxRelError: number;
  /** NaN or ±Inf in actual, and in expected: never a pass. */
  nonFiniteActual: number;
  nonFiniteExpected: number;
  /** The element with the largest excess over its allowed bound (or largest error if none). */
  worst: { index: number[]; actual: number; expected: number; allowed: number } | null;
  /** Smallest atol that, with this rtol, would have passed every finite element. */
  minPassingAtol: number;
  /** max |a - b| / (atol + rtol * |b|): at most 1 when every element is within tolerance. */
  maxToleranceRatio: number;
  /** Counts of finite absolute errors per decade: see ERROR_HISTOGRAM_DECADES. */
  errorHistogram: number[];
  shapeMismatch?: string;
}

/**
 * Buckets of errorHistogram: exactly 0, then [1e-12, 1e-11) ... [1e-1, 1) (below 1e-12 counts in
 * the first decade), then >= 1.
 */
export const ERROR_HISTOGRAM_DECADES = { first: -12, last: -1 } as const;

/** 1e-11, 1e-10, ..., 1e0: where the histogram's buckets after the first decade begin (the double nearest each power of ten). */
const DECADE_BOUNDS = Float64Array.from({ length: ERROR_HISTOGRAM_DECADES.last - ERROR_HISTOGRAM_DECADES.first + 1 }, (_, i) => Number(`1e${ERROR_HISTOGRAM_DECADES.first + 1 + i}`));

/** The bucket of a positive error by the bounds (a binary search); for the table below. */
function bucketBySearch(abs: number): number {
  let low = 0;
  let high = DECADE_BOUNDS.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (DECADE_BOUNDS[middle]! <= abs) low = middle + 1;
    else high = middle;
  }
  return low + 1;
}

/** The bucket of 2^(e - 1023) for each biased exponent e (2047: Infinity, which an overflowing difference of two finite values gives): an octave [2^e, 2^(e+1)) holds at most one bound, so one comparison finishes it. */
const BUCKET_OF_EXPONENT = Uint8Array.from({ length: 2048 }, (_, e) => bucketBySearch(e === 0 ? Number.MIN_VALUE : 2 ** (e - 1023)));
/** Where each bucket ends (the next one's bound); NaN for the last, which holds everything from 1 up, Infinity included. */
const BUCKET_END = Float64Array.from({ length: DECADE_BOUNDS.length + 2 }, (_, bucket) => (bucket >= 1 && bucket <= DECADE_BOUNDS.length ? DECADE_BOUNDS[bucket - 1]! : NaN));
const EXPONENT_SCRATCH = new Float64Array(1);
const EXPONENT_WORDS = new Uint32Array(EXPONENT_SCRATCH.buffer);

/**
 * The histogram bucket of a finite absolute error: its binary exponent's bucket, then one
 * comparison. Math.log10 per element cost a ResNet50 parity run seconds, and is not exact next to
 * a power of ten; this follows the decades' bounds exactly.
 */
function histogramBucket(abs: number): number {
  if (abs === 0) return 0;
  EXPONENT_SCRATCH[0] = abs;
  const bucket = BUCKET_OF_EXPONENT[EXPONENT_WORDS[HIGH_WORD]! >>> 20]!;
  return abs >= BUCKET_END[bucket]! ? bucket + 1 : bucket; // never true for NaN
}

const HISTOGRAM_BUCKETS = ERROR_HISTOGRAM_DECADES.last - ERROR_HISTOGRAM_DECADES.first + 3;

export function compareTensors(
  actual: ArrayLike<number>,
  actualShape: readonly number[],
  expected: ArrayLike<number>,
  expectedShape: readonly number[],
  tolerance: Tolerance,
  options: CompareOptions = {},
): TensorComparison {
  const statistic = options.statistic ?? 'elementwise';
  const quantile = options.quantile ?? 0.99;
  const base = { shape: [...expectedShape], elements: expected.length, tolerance, statistic, quantile };
  if (!sameShape(actualShape, expectedShape)) {
    return {
      ...base,
      passed: false,
      mismatches: expected.length,
      fractionOutOfTolerance: 1,
      maxAbsError: Infinity,
      meanAbsError: Infinity,
      medianAbsError: Infinity,
      quantileAbsError: Infinity,
      maxRelError: Infinity,
      nonFiniteActual: 0,
      nonFiniteExpected: 0,
      worst: null,
      minPassingAtol: Infinity,
      maxToleranceRatio: Infinity,
      errorHistogram: new Array<number>(HISTOGRAM_BUCKETS).fill(0),
      shapeMismatch: `shape [${actualShape.join(', ')}] != expected [${expectedShape.join(', ')}]`,
    };
  }
  // Typed arrays and quantiles by selection: a ResNet50 parity run compares 126M elements, and
  // number[] sorted with a comparator spent 80% of its two minutes sorting and collecting garbage.
  const absErrors = new Float64Array(expected.length);
  // Relative errors are kept only for a statistic that reduces them; their maximum is always reported.
  const relErrors = statistic === 'elementwise' ? undefined : new Float64Array(expected.length);
  const { atol, rtol } = tolerance;
  let finiteCount = 0;
  let maxAbsError = 0;
  let absErrorSum = 0;
  let maxRelError = 0;
  let mismatches = 0;
  let nonFiniteActual = 0;
  let nonFiniteExpected = 0;
  let minPassingAtol = 0;
  let worstAt = -1;
  let worstExcess = -Infinity;
  let maxToleranceRatio = 0;
  const errorHistogram = new Array<number>(HISTOGRAM_BUCKETS).fill(0);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    const abs = Math.abs(a - b);
    // abs is finite only when a and b both are (two finite floats can overflow it: checked below).
    if (!(abs <= Number.MAX_VALUE) && (!Number.isFinite(a) || !Number.isFinite(b))) {
      if (!Number.isFinite(b)) nonFiniteExpected++;
      if (!Number.isFinite(a)) nonFiniteActual++;
      mismatches++;
      continue;
    }
    const magnitude = Math.abs(b);
    const allowed = atol + rtol * magnitude;
    if (abs > allowed) mismatches++;
    const ratio = allowed > 0 ? abs / allowed : abs > 0 ? Infinity : 0;
    if (ratio > maxToleranceRatio) maxToleranceRatio = ratio;
    errorHistogram[histogramBucket(abs)]!++;
    const rel = b !== 0 ? abs / magnitude : abs > 0 ? Infinity : 0;
    if (rel > maxRelError) maxRelError = rel;
    if (relErrors) relErrors[finiteCount] = rel;
    absErrors[finiteCount] = abs;
    finiteCount++;
    absErrorSum += abs;
    if (abs > maxAbsError) maxAbsError = abs;
    const passingAtol = abs - rtol * magnitude;
    if (passingAtol > minPassingAtol) minPassingAtol = passingAtol;
    if (abs - allowed > worstExcess) {
      worstExcess = abs - allowed;
      worstAt = i;
    }
  }
  // Errors are finite or +Infinity (a relative error over an expected 0): no NaN to order.
  const abs = absErrors.subarray(0, finiteCount);
  const rel = relErrors?.subarray(0, finiteCount) ?? new Float64Array(0);
  const meanAbsError = finiteCount > 0 ? absErrorSum / finiteCount : 0;
  const stats = {
    maxAbsError,
    meanAbsError,
    ...absoluteErrorQuantiles(abs, maxAbsError, quantile),
    maxRelError,
  };
  const reduce = (errors: Float64Array, max: number, mean: () => number): number =>
    statistic === 'max' ? max : statistic === 'mean' ? mean() : statistic === 'median' ? quantileBySelection(errors, 0.5) : quantileBySelection(errors, quantile);
  const finite = nonFiniteActual === 0 && nonFiniteExpected === 0;
  const withinStatistic =
    statistic === 'elementwise'
      ? mismatches === 0
      : reduce(abs, maxAbsError, () => meanAbsError) <= tolerance.atol || reduce(rel, maxRelError, () => (finiteCount > 0 ? rel.reduce((s, v) => s + v, 0) / finiteCount : 0)) <= tolerance.rtol;
  return {
    ...base,
    passed: finite && withinStatistic,
    mismatches,
    fractionOutOfTolerance: expected.length > 0 ? mismatches / expected.length : 0,
    ...stats,
    nonFiniteActual,
    nonFiniteExpected,
    worst:
      worstAt < 0
        ? null
        : {
            index: unravelIndex(worstAt, expectedShape),
            actual: actual[worstAt]!,
            expected: expected[worstAt]!,
            allowed: tolerance.atol + tolerance.rtol * Math.abs(expected[worstAt]!),
          },
    minPassingAtol,
    maxToleranceRatio: nonFiniteActual + nonFiniteExpected > 0 ? Infinity : maxToleranceRatio,
    errorHistogram,
  };
}

/** The median and the `quantile` of the absolute errors, in one counting pass (order-statistics.ts). */
function absoluteErrorQuantiles(abs: Float64Array, maxAbsError: number, quantile: number): { medianAbsError: number; quantileAbsError: number } {
  // All zero (a backend that matches Keras bit for bit, as tensorflow often does): nothing to select.
  if (maxAbsError === 0) return { medianAbsError: 0, quantileAbsError: 0 };
  const [medianAbsError, quantileAbsError] = quantilesBySelection(abs, [0.5, quantile]) as [number, number];
  return { medianAbsError, quantileAbsError };
}

/** Linear interpolation between closest ranks, as numpy.quantile's default. */
export function quantileOf(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function unravelIndex(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length).fill(0);
  let rest = flat;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const dim = shape[axis]!;
    index[axis] = rest % dim;
    rest = Math.floor(rest / dim);
  }
  return index;
}
