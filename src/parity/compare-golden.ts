import type { GoldenTensorRecord } from '../keras/bundle-manifest.js';
import { compareTensors } from './compare-tensors.js';
import type { TensorParity } from './parity-result.js';
import type { TolerancePolicy } from './tolerance-policy.js';

/**
 * What tfjs computed for one golden against Keras's `expected` values, with the tolerance the
 * policy gives the golden's layer, backend and kind; the golden's reference error (a
 * finite-difference estimate, and Keras's float32 error measured against float64) is added to its
 * atol. A missing `actual` fails as a shape mismatch.
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
  const float64Error = where.isolated ? null : measured;
  const referenceError = where.isolated && measured !== null ? withoutFloat64(golden.reference_error ?? null, measured) : (golden.reference_error ?? null);
  const tolerance = { atol: base.atol + (referenceError ?? 0), rtol: base.rtol };
  const comparison = compareTensors(actual?.values ?? [], actual?.shape ?? [0], expected, golden.shape, tolerance, where.policy.compareOptions);
  return { kind: golden.kind as TensorParity['kind'], label: where.label, layer, source: golden.source, referenceError, float64Error, comparison };
}

/** A reference error less its float64-measured part: the finite-difference estimate, or null when that was all of it. */
function withoutFloat64(referenceError: number | null, float64Error: number): number | null {
  const rest = (referenceError ?? 0) - float64Error;
  return rest > 0 ? rest : null;
}
