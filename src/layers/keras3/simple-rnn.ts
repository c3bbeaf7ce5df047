import { withZeroOutputForMask } from './zero-output-for-mask.js';

/** tfjs-layers' SimpleRNN with Keras's zero_output_for_mask. */
export const KerasSimpleRNN = withZeroOutputForMask('SimpleRNN', 'KerasSimpleRNN');
