import type * as tf from '@tensorflow/tfjs';
import { defineActivation, type KerasActivationClass } from '../layers/keras3/activations/keras-activation.js';

const activations = new Map<string, KerasActivationClass>();
/** 'translated': generated from the function's Python source (route 1); a hand-written one replaces it. */
const origins = new Map<string, 'hand-written' | 'translated'>();

/**
 * Registers the TypeScript implementation of a Keras custom activation function: a Python
 * function passed as `activation=` (Dense, Conv, Activation, ...), which Keras saves by name:
 * `'package>name'` when it is decorated with @keras.saving.register_keras_serializable(package),
 * else its bare name. Register it under the name the config holds (both are looked up).
 *
 * The function becomes a tfjs activation class (lowerCamelCase, which survives tfjs's
 * snake_case/camelCase round trips of string values), registered with tfjs serialization, so that
 * a converted model.json naming it loads once this module is imported.
 */
export function registerActivation(
  kerasName: string,
  fn: (x: tf.Tensor) => tf.Tensor,
  options: { origin?: 'hand-written' | 'translated' } = {},
): KerasActivationClass {
  const origin = options.origin ?? 'hand-written';
  if (origin === 'translated' && origins.get(kerasName) === 'hand-written') return activations.get(kerasName)!;
  const defined = defineActivation(tfjsActivationClassName(kerasName), fn);
  activations.set(kerasName, defined);
  origins.set(kerasName, origin);
  return defined;
}

export function findCustomActivationOrigin(kerasName: string): 'hand-written' | 'translated' | undefined {
  return origins.get(kerasName);
}

/** 'my_pkg>scaled_tanh' → 'customMyPkgScaledTanh' (prefixed so as not to shadow tfjs's own names). */
function tfjsActivationClassName(kerasName: string): string {
  const words = kerasName.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return ['custom', ...words].map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
}

/** The registered activation for a name a Keras config holds ('package>name' or 'name'). */
export function findCustomActivation(kerasName: string): KerasActivationClass | undefined {
  const bare = kerasName.includes('>') ? kerasName.slice(kerasName.lastIndexOf('>') + 1) : undefined;
  return activations.get(kerasName) ?? (bare === undefined ? undefined : activations.get(bare));
}
