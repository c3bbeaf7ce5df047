import type { BackendParity } from '../parity/parity-result.js';

/** Where a backend parts from Keras, forward and backward, one sentence each (none when it does not). */
export function divergenceLines(model: string, backend: BackendParity): string[] {
  const lines: string[] = [];
  if (backend.firstDivergingLayer !== null) {
    lines.push(`${model} on ${backend.backend}: first diverging layer is '${backend.firstDivergingLayer}' (out of tolerance while its inputs were within it)`);
  }
  if (backend.firstDivergingLayerBackward) {
    lines.push(
      `${model} on ${backend.backend}: first diverging layer in the backward pass is '${backend.firstDivergingLayerBackward}' ` +
        `(its output gradient within tolerance, its weight gradients or the gradient it sends back out of it)`,
    );
  }
  return lines;
}
