import type { BackendParity } from '../parity/parity-result.js';

/**
 * Where a backend parts from Keras, forward and backward, at inference and in training mode, one
 * sentence each (none when it does not).
 */
export function divergenceLines(model: string, backend: BackendParity): string[] {
  const inference = `${model} on ${backend.backend}`;
  const training = `${inference}, training mode`;
  return [
    ...passLines(inference, 'out of tolerance while its inputs were within it', backend.firstDivergingLayer, backend.firstDivergingLayerBackward),
    ...passLines(
      training,
      'its output or its state after the pass out of tolerance while its inputs were within it',
      backend.training?.firstDivergingLayer,
      backend.training?.firstDivergingLayerBackward,
    ),
  ];
}

function passLines(where: string, why: string, forward: string | null | undefined, backward: string | null | undefined): string[] {
  const lines: string[] = [];
  if (forward) lines.push(`${where}: first diverging layer is '${forward}' (${why})`);
  if (backward) {
    lines.push(
      `${where}: first diverging layer in the backward pass is '${backward}' ` +
        `(its output gradient within tolerance, its weight gradients or the gradient it sends back out of it)`,
    );
  }
  return lines;
}
