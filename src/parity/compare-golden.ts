import type { GoldenTensorRecord } from '../keras/bundle-manifest.js';
import { compareTensors } from './compare-tensors.js';
import type { TensorParity } from './parity-result.js';
import type { TolerancePolicy } from './tolerance-policy.js';

/**
 * What tfjs computed for one golden against Keras's `expected` values, with the tolerance the
 * policy gives the golden's layer, backend and kind, plus the golden's own error where the
 * exporter estimated it: a finite-difference reference's estimated error once (tfjs's autodiff
 * has no such error), and Keras's float32 error measured against float64 (export
 * --float64-reference, `float64_error` E) plus the error tfjs may have: by the triangle inequality
 * |tfjs - Keras| <= |tfjs - exact| + |Keras - exact|, and tfjs is assumed no less accurate than the
 * least accurate of Keras's own float32 kernel variants (`kernel_variant_error` V: oneDNN on, capped
 * at AVX2, off), so atol gains E + max(E, V). One float32 run is one draw of the rounding: on an
 * AVX-512 machine MobileNetV2's golden was up to 5.4 times more accurate than the same Keras run on
 * AVX2 or Eigen kernels, and 2E failed by chance (docs/tolerances.md). Without V (older bundles,
 * --no-kernel-variants), 2E. A missing `actual` fails as a shape mismatch.
 *
 * `isolated`: a layer run alone on Keras's own inputs. Keras's float32 error against float64
 * accumulates over the layers before it, which tfjs then shares, so only the finite-difference
 * part is added: the check stays as sharp as without --float64-reference.
 */
export function compareGolden(
  golden: GoldenTensorRecord,
  actual: { shape: number[]; values: ArrayLike<number> } | undefined,
  expected: ArrayLike<number>,
  where: { backend: string; policy: TolerancePolicy; label: string; layer?: string | null; isolated?: boolean },
): TensorParity {
  const layer = where.layer !== undefined ? where.layer : 'layer' in golden ? golden.layer : null;
  const base = where.policy.toleranceFor({ dtype: golden.dtype, backend: where.backend, layer, kind: golden.kind });
  const measured = golden.float64_error ?? null;
  const finiteDifferenceError = measured !== null ? withoutFloat64(golden.reference_error ?? null, measured) : (golden.reference_error ?? null);
  const float64Error = where.isolated ? null : measured;
  const kernelVariantError = float64Error !== null ? (golden.kernel_variant_error ?? null) : null;
  const referenceError = float64Error !== null ? (finiteDifferenceError ?? 0) + float64Error : finiteDifferenceError;
  const tolerance = { atol: base.atol + (finiteDifferenceError ?? 0) + float32ErrorAllowance(float64Error, kernelVariantError), rtol: base.rtol };
  const comparison = compareTensors(actual?.values ?? [], actual?.shape ?? [0], expected, golden.shape, tolerance, where.policy.compareOptions);
  return { kind: golden.kind as TensorParity['kind'], label: where.label, layer, source: golden.source, referenceError, float64Error, kernelVariantError, comparison };
}

/**
 * What float32 rounding may put between tfjs and Keras: Keras's own measured error E, plus tfjs's,
 * taken as no worse than the least accurate of Keras's kernel variants (V), nor than Keras's own.
 */
export function float32ErrorAllowance(float64Error: number | null, kernelVariantError: number | null): number {
  if (float64Error === null) return 0;
  return float64Error + Math.max(float64Error, kernelVariantError ?? 0);
}

/** A reference error less its float64-measured part: the finite-difference estimate, or null when that was all of it. */
function withoutFloat64(referenceError: number | null, float64Error: number): number | null {
  const rest = (referenceError ?? 0) - float64Error;
  return rest > 0 ? rest : null;
}
