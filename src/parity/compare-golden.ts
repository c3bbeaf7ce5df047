import type { GoldenTensorRecord } from '../keras/bundle-manifest.js';
import { compareTensors } from './compare-tensors.js';
import type { TensorParity } from './parity-result.js';
import type { TolerancePolicy } from './tolerance-policy.js';

/**
 * What tfjs computed for one golden against Keras's `expected` values, with the tolerance the
 * policy gives the golden's layer, backend and kind, plus the golden's own error where the
 * exporter estimated it: a finite-difference reference's estimated error once (tfjs's autodiff
 * has no such error), and Keras's float32 error measured against float64 (export
 * --float64-reference) twice: if tfjs is no less accurate than Keras, |tfjs - Keras| <=
 * |tfjs - exact| + |Keras - exact| <= 2 |Keras - exact| (the triangle inequality; two float32 Keras
 * runs, oneDNN on and off, differ by up to 1.71 times it on MobileNetV2, docs/tolerances.md).
 * A missing `actual` fails as a shape mismatch.
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
  const referenceError = float64Error !== null ? (finiteDifferenceError ?? 0) + float64Error : finiteDifferenceError;
  const tolerance = { atol: base.atol + (finiteDifferenceError ?? 0) + FLOAT64_ERROR_FACTOR * (float64Error ?? 0), rtol: base.rtol };
  const comparison = compareTensors(actual?.values ?? [], actual?.shape ?? [0], expected, golden.shape, tolerance, where.policy.compareOptions);
  return { kind: golden.kind as TensorParity['kind'], label: where.label, layer, source: golden.source, referenceError, float64Error, comparison };
}

/** Keras's measured float32 error counts twice: once for Keras, once for tfjs rounding no worse. */
export const FLOAT64_ERROR_FACTOR = 2;

/** A reference error less its float64-measured part: the finite-difference estimate, or null when that was all of it. */
function withoutFloat64(referenceError: number | null, float64Error: number): number | null {
  const rest = (referenceError ?? 0) - float64Error;
  return rest > 0 ? rest : null;
}
