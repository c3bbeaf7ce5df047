import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';

/**
 * The shared check every TypeScript layer passes through (like Keras's run_layer_test):
 * getConfig() → tfjs deserialization gives an equal config, and the layer applies to a
 * symbolic input of `inputShape` (batch dimension left out).
 */
export function roundTripLayer(layer: tf.layers.Layer, inputShape: number[]): { layer: tf.layers.Layer; output: tf.SymbolicTensor } {
  const className = (layer.constructor as unknown as { className: string }).className;
  const config = layer.getConfig();
  const registered = tf.serialization.SerializationMap.getMap().classNameMap[className];
  assert.ok(registered, `${className} is not registered with tfjs serialization`);
  const [cls, fromConfig] = registered;
  const rebuilt = fromConfig(cls, config) as tf.layers.Layer;
  assert.deepEqual(rebuilt.getConfig(), config, `${className}: getConfig() does not round-trip`);
  const output = rebuilt.apply(tf.input({ shape: inputShape })) as tf.SymbolicTensor;
  return { layer: rebuilt, output };
}
