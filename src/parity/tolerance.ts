/** An element passes when |actual - expected| <= atol + rtol * |expected|. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/**
 * Defaults per golden dtype, from measured error between Keras (TF 2.21, oneDNN) and tfjs 4.22
 * on cpu, wasm and the native tensorflow backend: the worst tensor of the probe models needed
 * atol 2.0e-7 at rtol 1e-4, and these leave 25x headroom for deeper models (docs/tolerances.md,
 * scripts/measure-tolerances.ts). float64 goldens (finite-difference references) are compared
 * with tfjs's float32 results, so they get float32's tolerance.
 */
export const DEFAULT_TOLERANCES: Record<string, Tolerance> = {
  float32: { atol: 5e-6, rtol: 1e-4 },
  float64: { atol: 5e-6, rtol: 1e-4 },
};

/**
 * Trained weights are compared as their change over the optimizer steps (after - before), so that
 * rtol is relative to what training moved; errors compound over the steps, and Adam divides by
 * sqrt(v), which magnifies gradient rounding where a gradient is near zero (docs/tolerances.md).
 */
export const TRAINED_WEIGHT_TOLERANCE: Tolerance = { atol: 1e-5, rtol: 1e-3 };

export function defaultTolerance(dtype: string, kind?: string): Tolerance {
  if (kind === 'trained_weight') return TRAINED_WEIGHT_TOLERANCE;
  return DEFAULT_TOLERANCES[dtype] ?? DEFAULT_TOLERANCES['float32']!;
}
