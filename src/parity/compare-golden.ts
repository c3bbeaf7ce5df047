import type { GoldenTensorRecord } from '../keras/bundle-manifest.js';
import { compareTensors } from './compare-tensors.js';
import type { TensorParity } from './parity-result.js';
import type { TolerancePolicy } from './tolerance-policy.js';

/**
 * What tfjs computed for one golden against Keras's `expected` values, with the tolerance the
 * policy gives the golden's layer, backend and kind; a finite-difference golden's estimated
 * reference error is added to its atol. A missing `actual` fails as a shape mismatch.
 */
export function compareGolden(
  golden: GoldenTensorRecord,
  actual: { shape: number[]; values: ArrayLike<number> } | undefined,
  expected: ArrayLike<number>,
  where: { backend: string; policy: TolerancePolicy; label: string; layer?: string | null },
): TensorParity {
  const layer = where.layer !== undefined ? where.layer : 'layer' in golden ? golden.layer : null;
  const base = where.policy.toleranceFor({ dtype: golden.dtype, backend: where.backend, layer, kind: golden.kind });
  const referenceError = golden.reference_error ?? null;
  const tolerance = { atol: base.atol + (referenceError ?? 0), rtol: base.rtol };
  const comparison = compareTensors(actual?.values ?? [], actual?.shape ?? [0], expected, golden.shape, tolerance, where.policy.compareOptions);
  return { kind: golden.kind as TensorParity['kind'], label: where.label, layer, source: golden.source, referenceError, comparison };
}
