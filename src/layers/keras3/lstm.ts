import { withZeroOutputForMask } from './zero-output-for-mask.js';

/** tfjs-layers' LSTM (same weights, gates i, f, c, o) with Keras's zero_output_for_mask. */
export const KerasLSTM = withZeroOutputForMask('LSTM', 'KerasLSTM');
