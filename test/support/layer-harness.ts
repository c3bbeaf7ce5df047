import assert from 'node:assert/strict';
import tf from '#tfjs';

/**
 * A round trip of a layer built by hand, for configurations no bundle holds: getConfig() → tfjs
 * deserialization gives an equal config, and the layer applies to a symbolic input of `inputShape`
 * (batch dimension left out). The check against Keras that every layer class passes through is
 * runLayerTest (src/testing/layer-harness.ts, test/layers/layer-harness.test.ts).
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
