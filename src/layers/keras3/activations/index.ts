import * as fn from './functions.js';
import { defineActivation, type KerasActivationClass } from './keras-activation.js';

export { KerasActivation, defineActivation, type KerasActivationClass } from './keras-activation.js';

const hardSilu = defineActivation('kerasHardSilu', fn.hardSilu);

/**
 * Keras 3 activation names (as a config writes them) whose function keras-bridge implements,
 * each registered with tfjs serialization under its own class name. Names tfjs computes
 * identically are mapped in src/convert/activations.ts instead.
 */
export const KERAS3_ACTIVATIONS: Readonly<Record<string, KerasActivationClass>> = {
  exponential: defineActivation('kerasExponential', fn.exponential),
  hard_sigmoid: defineActivation('kerasHardSigmoid', fn.hardSigmoid),
  hard_silu: hardSilu,
  hard_swish: hardSilu,
  leaky_relu: defineActivation('kerasLeakyRelu', fn.leakyRelu),
  log_sigmoid: defineActivation('kerasLogSigmoid', fn.logSigmoid),
  celu: defineActivation('kerasCelu', fn.celu),
  glu: defineActivation('kerasGlu', fn.glu),
  squareplus: defineActivation('kerasSquareplus', fn.squareplus),
  sparse_plus: defineActivation('kerasSparsePlus', fn.sparsePlus),
  sparse_sigmoid: defineActivation('kerasSparseSigmoid', fn.sparseSigmoid),
  soft_shrink: defineActivation('kerasSoftShrink', fn.softShrink),
  hard_shrink: defineActivation('kerasHardShrink', fn.hardShrink),
  tanh_shrink: defineActivation('kerasTanhShrink', fn.tanhShrink),
  hard_tanh: defineActivation('kerasHardTanh', fn.hardTanh),
  sparsemax: defineActivation('kerasSparsemax', fn.sparsemax),
};
