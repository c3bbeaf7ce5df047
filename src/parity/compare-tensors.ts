import type { Tolerance } from './tolerance.js';

/** Per-tensor statistics of actual vs expected, as plain serializable data. */
export interface TensorComparison {
  shape: number[];
  elements: number;
  tolerance: Tolerance;
  passed: boolean;
  /** Elements outside atol + rtol * |expected| (non-finite ones included). */
  mismatches: number;
  maxAbsError: number;
  /** max |a - b| / |b| over elements with b != 0 (Infinity where b == 0 and a != 0). */
  maxRelError: number;
  /** NaN or ±Inf in actual, and in expected: never a pass. */
  nonFiniteActual: number;
  nonFiniteExpected: number;
  /** The element with the largest excess over its allowed bound (or largest error if none). */
  worst: { index: number[]; actual: number; expected: number; allowed: number } | null;
  /** Smallest atol that, with this rtol, would have passed every finite element. */
  minPassingAtol: number;
  shapeMismatch?: string;
}

export function compareTensors(
  actual: ArrayLike<number>,
  actualShape: readonly number[],
  expected: ArrayLike<number>,
  expectedShape: readonly number[],
  tolerance: Tolerance,
): TensorComparison {
  const base = {
    shape: [...expectedShape],
    elements: expected.length,
    tolerance,
  };
  if (!sameShape(actualShape, expectedShape)) {
    return {
      ...base,
      passed: false,
      mismatches: expected.length,
      maxAbsError: Infinity,
      maxRelError: Infinity,
      nonFiniteActual: 0,
      nonFiniteExpected: 0,
      worst: null,
      minPassingAtol: Infinity,
      shapeMismatch: `shape [${actualShape.join(', ')}] != expected [${expectedShape.join(', ')}]`,
    };
  }
  let mismatches = 0;
  let maxAbs = 0;
  let maxRel = 0;
  let nonFiniteActual = 0;
  let nonFiniteExpected = 0;
  let minPassingAtol = 0;
  let worstAt = -1;
  let worstExcess = -Infinity;
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
    maxAbs = Math.max(maxAbs, abs);
    if (b !== 0) maxRel = Math.max(maxRel, abs / Math.abs(b));
    else if (abs > 0) maxRel = Infinity;
    minPassingAtol = Math.max(minPassingAtol, abs - tolerance.rtol * Math.abs(b));
    if (abs - allowed > worstExcess) {
      worstExcess = abs - allowed;
      worstAt = i;
    }
  }
  return {
    ...base,
    passed: mismatches === 0 && nonFiniteActual === 0 && nonFiniteExpected === 0,
    mismatches,
    maxAbsError: maxAbs,
    maxRelError: maxRel,
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
  };
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
