import { bundleGolden, type Bundle } from '../keras/bundle.js';
import type { GoldenTensorRecord } from '../keras/bundle-manifest.js';
import { toFloat64 } from '../keras/packed-tensor.js';
import { compareGolden } from './compare-golden.js';
import { goldenKey, type ComputedTensor } from './evaluate-model.js';
import { labelOf } from './golden-label.js';
import type { TensorParity } from './parity-result.js';
import type { TolerancePolicy } from './tolerance-policy.js';

/**
 * Each golden of the bundle's inference section (but inputs and cotangents) that `include` admits,
 * compared with what tfjs computed for it (a missing one fails as a shape mismatch).
 */
export function compareWithGoldens(
  bundle: Bundle,
  computed: Map<string, ComputedTensor>,
  backend: string,
  policy: TolerancePolicy,
  include: (golden: GoldenTensorRecord) => boolean = () => true,
  isolated = false,
): TensorParity[] {
  const compared: TensorParity[] = [];
  const layerNames = new Set(bundle.manifest.layers.map((l) => l.name));
  for (const golden of bundle.manifest.goldens.tensors) {
    if (golden.kind === 'input' || golden.kind === 'cotangent' || !include(golden)) continue;
    // A model input's gradient belongs to its Input layer (Keras names both alike): the backward pass ends there.
    const layer = golden.kind === 'grad_input' && layerNames.has(golden.name) ? { layer: golden.name } : {};
    compared.push(
      compareGolden(golden, computed.get(goldenKey(golden)), toFloat64(bundleGolden(bundle, golden)), { backend, policy, label: labelOf(golden), isolated, ...layer }),
    );
  }
  return compared;
}
