import { backendDescriptor } from '../backends/backend-registry.js';
import '../backends/descriptors/index.js';

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
 * with tfjs's float32 results, so they get float32's tolerance. Integer and bool goldens (indices,
 * masks, an argmax head) are compared exactly: rtol would let a large index be off by more than one.
 */
export const DEFAULT_TOLERANCES: Record<string, Tolerance> = {
  float32: { atol: 5e-6, rtol: 1e-4 },
  float64: { atol: 5e-6, rtol: 1e-4 },
  int32: { atol: 0, rtol: 0 },
  int64: { atol: 0, rtol: 0 },
  bool: { atol: 0, rtol: 0 },
  uint8: { atol: 0, rtol: 0 },
  int8: { atol: 0, rtol: 0 },
  uint16: { atol: 0, rtol: 0 },
  int16: { atol: 0, rtol: 0 },
};

/**
 * Trained weights are compared as their change over the optimizer steps (after - before), so that
 * rtol is relative to what training moved; errors compound over the steps, and Adam divides by
 * sqrt(v), which magnifies gradient rounding where a gradient is near zero (docs/tolerances.md).
 */
export const TRAINED_WEIGHT_TOLERANCE: Tolerance = { atol: 1e-5, rtol: 1e-3 };

/**
 * A backend whose arithmetic is coarser than float32 declares a floor under these in its descriptor
 * (src/backends/descriptors: chromium-webgl-f16's float16 textures); the larger of the two applies.
 */
export function defaultTolerance(dtype: string, kind?: string, backend?: string): Tolerance {
  const base = kind === 'trained_weight' ? TRAINED_WEIGHT_TOLERANCE : (DEFAULT_TOLERANCES[dtype] ?? DEFAULT_TOLERANCES['float32']!);
  const floor = backend === undefined ? undefined : backendDescriptor(backend)?.toleranceFloor;
  return floor ? { atol: Math.max(base.atol, floor.atol), rtol: Math.max(base.rtol, floor.rtol) } : base;
}
