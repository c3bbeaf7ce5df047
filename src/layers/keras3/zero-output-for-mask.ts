import tf from '#tfjs';
import type { RNN } from '@tensorflow/tfjs-layers/dist/layers/recurrent.js';
import { registeredTfjsClass } from './tfjs-objects.js';

/** Constructor of a tfjs-layers recurrent layer (tfjs exports the classes as types only). */
export type RecurrentLayerClass = (new (args: tf.serialization.ConfigDict) => RNN) & Pick<typeof RNN, 'fromConfig'>;

/** tfjs-layers' own class registered as `className` ('LSTM', 'SimpleRNN', 'RNN', ...). */
export function tfjsRecurrentClass(className: string): RecurrentLayerClass {
  const registered = registeredTfjsClass(className);
  if (!registered) throw new Error(`tfjs-layers has no registered class '${className}'.`);
  return registered[0] as unknown as RecurrentLayerClass;
}

type Kwargs = Record<string, unknown>;

/**
 * Keras's `zero_output_for_mask`: with return_sequences, the output at a masked timestep is 0
 * rather than the previous step's output (what tfjs-layers' RNN does, and Keras with the flag
 * off). Keras's Bidirectional turns it on for both directions whenever it returns sequences.
 * States are unaffected, so zeroing the masked timesteps of the sequence output is exact.
 * `output` is what the layer computed with `kwargs`; call it inside tf.tidy.
 */
export function zeroOutputForMask(layer: RNN, output: tf.Tensor | tf.Tensor[], kwargs: Kwargs | undefined): tf.Tensor | tf.Tensor[] {
  const mask = kwargs?.['mask'] as tf.Tensor | tf.Tensor[] | undefined | null;
  const stepMask = Array.isArray(mask) ? mask[0] : mask;
  if (!layer.returnSequences || !stepMask) return output;
  const [sequence, ...states] = Array.isArray(output) ? output : [output];
  // A backwards layer returns its outputs in the order it processed them: reversed time. (The
  // mask is cast first: tfjs-backend-wasm 4.22's Reverse writes out of bounds on bool tensors.)
  const weights = tf.cast(stepMask, sequence!.dtype);
  const inOrder = layer.goBackwards ? tf.reverse(weights, 1) : weights;
  const zeroed = tf.mul(sequence!, tf.expandDims(inOrder, -1));
  return Array.isArray(output) ? [zeroed, ...states] : zeroed;
}
