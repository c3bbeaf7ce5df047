import type { TensorParity } from './parity-result.js';

/**
 * The first layer, in the model's layer order, whose output is out of tolerance while the outputs
 * of the layers feeding it were within tolerance: where two runtimes part. In training mode a
 * layer's state after the pass (weight_after_pass: BatchNormalization's moving statistics) is its
 * product too: a wrong momentum leaves the output right and the state wrong. Layers without a
 * golden count as within tolerance. null when every layer output (and state) passes.
 */
export function firstDivergingLayer(
  tensors: readonly TensorParity[],
  layerOrder: readonly string[],
  inputsOf: ReadonlyMap<string, readonly string[]>,
): string | null {
  const failing = (kind: TensorParity['kind']) => new Set(tensors.filter((t) => t.kind === kind && !t.comparison.passed).map((t) => t.layer!));
  const outputFailed = failing('layer_output');
  const stateFailed = failing('weight_after_pass');
  for (const layer of layerOrder) {
    if (!outputFailed.has(layer) && !stateFailed.has(layer)) continue;
    // What feeds a layer is its inputs' outputs; their state after the pass does not.
    if ((inputsOf.get(layer) ?? []).every((input) => !outputFailed.has(input))) return layer;
  }
  return null;
}

/**
 * The backward pass's counterpart: walking the layers from the outputs back, the first layer whose
 * output gradient (dL/dy, grad_layer_output) is within tolerance while what its backward pass
 * produces is not: the gradients of its weights, or the gradient arriving at a layer feeding it
 * (that layer's grad_layer_output, or grad_input for a model input). A tensor feeding several
 * layers gets the sum of their gradients, so the first of them met from the outputs is named;
 * the layer-isolated backward check tells them apart. Layers without an output-gradient golden
 * count as within tolerance. null when nothing in the backward pass fails; when the forward pass
 * already fails (the backward pass then runs on wrong activations, and the forward divergence is
 * the finding); or when the bundle has no output-gradient goldens (only weight gradients are known).
 */
export function firstDivergingLayerBackward(
  tensors: readonly TensorParity[],
  layerOrder: readonly string[],
  inputsOf: ReadonlyMap<string, readonly string[]>,
): string | null {
  if (!tensors.some((t) => t.kind === 'grad_layer_output')) return null;
  if (tensors.some((t) => (t.kind === 'output' || t.kind === 'layer_output') && !t.comparison.passed)) return null;
  const failing = (kind: TensorParity['kind']) => new Set(tensors.filter((t) => t.kind === kind && !t.comparison.passed).map((t) => t.layer!));
  const arrivingFailed = new Set([...failing('grad_layer_output'), ...failing('grad_input')]);
  const weightsFailed = failing('grad_weight');
  for (const layer of [...layerOrder].reverse()) {
    if (arrivingFailed.has(layer)) continue;
    if (weightsFailed.has(layer) || (inputsOf.get(layer) ?? []).some((input) => arrivingFailed.has(input))) return layer;
  }
  return null;
}
