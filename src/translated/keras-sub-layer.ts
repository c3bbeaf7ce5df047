import tf from '#tfjs';
import type { KerasObject } from '../keras/keras-object.js';
import { translateLayer } from '../convert/translate-layer.js';
import { tfjsCamelCase } from './python-config.js';
import { UnsupportedLayerError } from '../errors.js';

/**
 * A Keras layer a translated layer makes in __init__ (`layers.Dense(width, activation="gelu")`),
 * as its tfjs twin: the arguments the Python passed form a Keras config, which goes through the
 * converter's own translator for that class (so a sub-layer converts exactly as the same layer in a
 * model would), then through tfjs's deserialization. Arguments the Python left out take the tfjs
 * layer's defaults, which the translators keep equal to Keras's where they matter to outputs
 * (weights come from Keras either way).
 */
export function kerasLayer(className: string, config: Record<string, unknown>): tf.layers.Layer {
  const entry: KerasObject = { class_name: className, module: 'keras.layers', config: withoutUndefined(config) };
  const { tfjs } = translateLayer(entry, `translated sub-layer ${className}`);
  const registered = tf.serialization.SerializationMap.getMap().classNameMap[tfjs.class_name];
  if (!registered) throw new UnsupportedLayerError(`sub-layer ${className}: tfjs has no class '${tfjs.class_name}' registered`);
  const [cls, fromConfig] = registered;
  return fromConfig(cls, pythonicToTs(tfjs.config) as tf.serialization.ConfigDict) as tf.layers.Layer;
}

function withoutUndefined(config: Record<string, unknown>): Record<string, unknown> {
  // An activation function from kops.activation() goes back to its Keras name.
  const named = (v: unknown) => (typeof v === 'function' && 'kerasName' in v ? (v as { kerasName: string }).kerasName : v);
  return Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined).map(([k, v]) => [k, named(v)]));
}

/** What tfjs's model loading does to a layer config before the constructor sees it: snake_case keys
 * and string values to camelCase, except a `name`. */
export function pythonicToTs(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return tfjsCamelCase(value);
  if (Array.isArray(value)) return value.map(pythonicToTs);
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => (k === 'name' && typeof v === 'string' ? [k, v] : [tfjsCamelCase(k), pythonicToTs(v)])),
    );
  }
  return value;
}
