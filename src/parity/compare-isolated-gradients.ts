import { bundleGolden, type Bundle } from '../keras/bundle.js';
import { toFloat64 } from '../keras/packed-tensor.js';
import { compareTensors } from './compare-tensors.js';
import { isolatedGradientChecks, planIsolatedGradients, type IsolatedGradientEvaluation } from './isolated-gradients.js';
import type { IsolatedGradientParity, TensorParity } from './parity-result.js';
import type { TolerancePolicy } from './tolerance-policy.js';

/**
 * Compares the gradients each layer's backward pass gave alone with Keras's goldens. A tensor's
 * tolerance is that of the layer run alone; a finite-difference golden's estimated error is added
 * to its atol, as for the end-to-end gradients.
 */
export function compareIsolatedGradients(
  bundle: Bundle,
  evaluation: IsolatedGradientEvaluation,
  backend: string,
  policy: TolerancePolicy,
  layerOrder: string[],
): IsolatedGradientParity {
  const tensors: TensorParity[] = isolatedGradientChecks(planIsolatedGradients(bundle))
    // A layer tfjs could not differentiate alone computed nothing, and is listed as skipped.
    .filter((check) => evaluation.computed.has(check.key))
    .map((check) => {
      const actual = evaluation.computed.get(check.key)!;
      const expected = bundleGolden(bundle, check.expected);
      const base = policy.toleranceFor({ dtype: check.expected.dtype, backend, layer: check.layer });
      const referenceError = check.expected.reference_error ?? null;
      const comparison = compareTensors(
        actual.values,
        actual.shape,
        toFloat64(expected),
        expected.shape,
        { atol: base.atol + (referenceError ?? 0), rtol: base.rtol },
        policy.compareOptions,
      );
      return { kind: check.expected.kind as TensorParity['kind'], label: check.label, layer: check.layer, source: check.expected.source, referenceError, comparison };
    });
  const failing = new Set(tensors.filter((t) => !t.comparison.passed).map((t) => t.layer!));
  return {
    tensors,
    failingLayers: layerOrder.filter((l) => failing.has(l)),
    skipped: evaluation.skipped,
    unavailable: evaluation.unavailable,
  };
}
