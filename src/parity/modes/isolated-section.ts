import type { BackendParity, IsolatedGradientParity } from '../parity-result.js';

/**
 * The layer-alone section is filled by two modes, forward then backward; each starts from these
 * while the other has not run.
 */
export const NO_ISOLATED_GRADIENTS: IsolatedGradientParity = { tensors: [], failingLayers: [], skipped: [], unavailable: 'the layer-alone backward pass did not run' };
export const NO_ISOLATED_OUTPUTS: Omit<BackendParity['isolated'], 'gradients'> = { tensors: [], failingLayers: [], skipped: [] };
