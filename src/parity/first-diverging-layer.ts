import type { TensorParity } from './parity-result.js';

/**
 * The first layer, in the model's layer order, whose output is out of tolerance while the outputs
 * of the layers feeding it were within tolerance: where two runtimes part. Layers without a
 * golden count as within tolerance. null when every layer output passes.
 */
export function firstDivergingLayer(
  tensors: readonly TensorParity[],
  layerOrder: readonly string[],
  inputsOf: ReadonlyMap<string, readonly string[]>,
): string | null {
  const failed = new Set(tensors.filter((t) => t.kind === 'layer_output' && !t.comparison.passed).map((t) => t.layer!));
  for (const layer of layerOrder) {
    if (!failed.has(layer)) continue;
    if ((inputsOf.get(layer) ?? []).every((input) => !failed.has(input))) return layer;
  }
  return null;
}
