import { bundleGolden, type Bundle } from '../keras/bundle.js';
import { toFloat64 } from '../keras/packed-tensor.js';
import { compareGolden } from './compare-golden.js';
import { isolatedGradientChecks, planIsolatedGradients, type IsolatedGradientEvaluation } from './isolated-gradients.js';
import type { IsolatedGradientParity, TensorParity } from './parity-result.js';
import type { TolerancePolicy } from './tolerance-policy.js';

/**
 * Compares the gradients each layer's backward pass gave alone with Keras's goldens. A tensor's
 * tolerance is that of the layer run alone; a finite-difference golden's estimated error is added
 * to its atol, as for the end-to-end gradients, but not Keras's float32 error measured against
 * float64, which the layers before it built up (compareGolden's `isolated`).
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
    .map((check) =>
      compareGolden(check.expected, evaluation.computed.get(check.key), toFloat64(bundleGolden(bundle, check.expected)), {
        backend,
        policy,
        label: check.label,
        layer: check.layer,
        isolated: true,
      }),
    );
  const failing = new Set(tensors.filter((t) => !t.comparison.passed).map((t) => t.layer!));
  return {
    tensors,
    failingLayers: layerOrder.filter((l) => failing.has(l)),
    skipped: evaluation.skipped,
    unavailable: evaluation.unavailable,
  };
}
