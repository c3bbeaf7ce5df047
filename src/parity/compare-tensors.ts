import { quantileBySelection } from './order-statistics.js';
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

function histogramBucket(abs: number): number {
  if (abs === 0) return 0;
  const decade = Math.floor(Math.log10(abs));
  if (decade >= 0) return ERROR_HISTOGRAM_DECADES.last - ERROR_HISTOGRAM_DECADES.first + 2;
  return Math.max(decade, ERROR_HISTOGRAM_DECADES.first) - ERROR_HISTOGRAM_DECADES.first + 1;
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
  const relErrors = new Float64Array(expected.length);
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
    if (!Number.isFinite(b)) nonFiniteExpected++;
    if (!Number.isFinite(a)) nonFiniteActual++;
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      mismatches++;
      continue;
    }
    const abs = Math.abs(a - b);
    const allowed = tolerance.atol + tolerance.rtol * Math.abs(b);
    if (abs > allowed) mismatches++;
    maxToleranceRatio = Math.max(maxToleranceRatio, allowed > 0 ? abs / allowed : abs > 0 ? Infinity : 0);
    errorHistogram[histogramBucket(abs)]!++;
    const rel = b !== 0 ? abs / Math.abs(b) : abs > 0 ? Infinity : 0;
    absErrors[finiteCount] = abs;
    relErrors[finiteCount] = rel;
    finiteCount++;
    absErrorSum += abs;
    if (abs > maxAbsError) maxAbsError = abs;
    if (rel > maxRelError) maxRelError = rel;
    minPassingAtol = Math.max(minPassingAtol, abs - tolerance.rtol * Math.abs(b));
    if (abs - allowed > worstExcess) {
      worstExcess = abs - allowed;
      worstAt = i;
    }
  }
  // Errors are finite or +Infinity (a relative error over an expected 0): no NaN to order.
  const abs = absErrors.subarray(0, finiteCount);
  const rel = relErrors.subarray(0, finiteCount);
  const meanAbsError = finiteCount > 0 ? absErrorSum / finiteCount : 0;
  // All zero (a backend that matches Keras bit for bit, as tensorflow often does): nothing to select.
  const stats = {
    maxAbsError,
    meanAbsError,
    medianAbsError: maxAbsError === 0 ? 0 : quantileBySelection(abs, 0.5),
    quantileAbsError: maxAbsError === 0 ? 0 : quantileBySelection(abs, quantile),
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
