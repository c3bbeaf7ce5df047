import { parityModes } from '../parity/modes/index.js';
import type { BackendParity } from '../parity/parity-result.js';

/**
 * Where a backend parts from Keras, forward and backward, in each mode that localizes (at
 * inference and in training mode), one sentence each (none when it does not).
 */
export function divergenceLines(model: string, backend: BackendParity): string[] {
  return parityModes().flatMap((mode) => mode.divergenceLines(model, backend));
}
