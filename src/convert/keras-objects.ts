import tf from '#tfjs';
import { UnsupportedLayerError } from '../errors.js';
import { isKerasObject, type KerasObject } from '../keras/keras-object.js';
import type { FieldRule } from './field-rules.js';
import type { TranslationContext } from './translation-context.js';

/**
 * Nested Keras 3 objects (initializers, regularizers, constraints) in tfjs-layers' form:
 * `{class_name, config}`, without Keras 3's `module` and `registered_name`, and without config
 * keys that are null (Keras 3 adds e.g. GlorotUniform's input_axes/output_axes).
 */
function toTfjsObject(value: KerasObject, context: TranslationContext, field: string): TfjsObject {
  const config: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value.config)) {
    if (v === null) context.dropped(`${field}.${key}`, 'null in Keras; tfjs-layers has no such option');
    else config[key] = v;
  }
  return { class_name: value.class_name, config };
}

interface TfjsObject {
  class_name: string;
  config: Record<string, unknown>;
}

function tfjsKnowsClass(className: string): boolean {
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  return className in map;
}

/**
 * Initializers only matter when tfjs re-initializes a layer; converted weights come from Keras.
 * An initializer tfjs lacks becomes Zeros, and the note says so.
 */
export const initializer: FieldRule = (value, context, field) => {
  if (value === null || value === undefined) return { key: field, value: null };
  if (typeof value === 'string') return { key: field, value };
  if (!isKerasObject(value)) throw unexpectedShape(context, field, value);
  if (!tfjsKnowsClass(value.class_name)) {
    context.changed(field, value.class_name, 'Zeros', 'tfjs-layers lacks this initializer; weights are loaded from Keras, so only re-initialization differs');
    return { key: field, value: { class_name: 'Zeros', config: {} } };
  }
  return { key: field, value: toTfjsObject(value, context, field) };
};

const KERAS_REGULARIZERS: Record<string, (c: Record<string, unknown>) => Record<string, unknown>> = {
  L1: (c) => ({ l1: c['l1'] ?? 0, l2: 0 }),
  L2: (c) => ({ l1: 0, l2: c['l2'] ?? 0 }),
  L1L2: (c) => ({ l1: c['l1'] ?? 0, l2: c['l2'] ?? 0 }),
};

/** Regularizers become tfjs's L1L2; they add training losses and never change outputs or our loss. */
export const regularizer: FieldRule = (value, context, field) => {
  if (value === null || value === undefined) return { key: field, value: null };
  if (!isKerasObject(value)) throw unexpectedShape(context, field, value);
  const toL1L2 = KERAS_REGULARIZERS[value.class_name];
  if (!toL1L2) {
    context.dropped(field, `tfjs-layers has no ${value.class_name} regularizer; it only adds a training loss`, value.class_name);
    return undefined;
  }
  return { key: field, value: { class_name: 'L1L2', config: toL1L2(value.config) } };
};

/** Constraints act only after optimizer steps; one tfjs lacks is dropped with a note. */
export const constraint: FieldRule = (value, context, field) => {
  if (value === null || value === undefined) return { key: field, value: null };
  if (!isKerasObject(value)) throw unexpectedShape(context, field, value);
  if (!tfjsKnowsClass(value.class_name)) {
    context.dropped(field, `tfjs-layers has no ${value.class_name} constraint; it only acts during training`, value.class_name);
    return undefined;
  }
  return { key: field, value: toTfjsObject(value, context, field) };
};

function unexpectedShape(context: TranslationContext, field: string, value: unknown): Error {
  return new UnsupportedLayerError(
    `${context.where(field)}: expected a Keras serialized object ({class_name, config}), got ${JSON.stringify(value)}.`,
  );
}
