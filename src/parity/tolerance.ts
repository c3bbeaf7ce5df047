/** An element passes when |actual - expected| <= atol + rtol * |expected|. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/**
 * Defaults for float32, from measured error between Keras (TF 2.21, oneDNN) and tfjs 4.22
 * on cpu, wasm and the native tensorflow backend: see docs/tolerances.md for the figures.
 */
export const DEFAULT_TOLERANCES: Record<string, Tolerance> = {
  float32: { atol: 1e-5, rtol: 1e-4 },
  float64: { atol: 1e-5, rtol: 1e-4 },
};

export function defaultTolerance(dtype: string): Tolerance {
  return DEFAULT_TOLERANCES[dtype] ?? DEFAULT_TOLERANCES['float32']!;
}
