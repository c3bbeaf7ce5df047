import type { BackendParity } from '../parity/parity-result.js';

/** The line saying the end-to-end gradients were not compared, and why, or none. */
export function gradientsNotComparedLines(model: string, b: BackendParity, paint: (text: string, code: number) => string): string[] {
  if (!b.gradientsNotCompared) return [];
  return [paint(`${model} on ${b.backend}, gradients (inputs, weights, layer outputs): NOT compared: ${b.gradientsNotCompared}; outputs and layer outputs were compared`, 33)];
}
