import { z } from 'zod';
import { UnsupportedLayerError } from '../errors.js';
import { isBuiltinKerasModule, type KerasObject } from './keras-object.js';

/**
 * A `keras.Model` subclass built functionally in `__init__` (a library's backbone or task model),
 * whose layer graph the exporter recorded (python/keras_bridge/subclassed_models.py): the model's
 * entry in model.keras.json is then a plain Functional config, with the class it was under
 * `subclassed_model` (docs/bundle-format.md, "Subclassed functional models").
 */
export interface SubclassedModel {
  className: string;
  registeredName: string | null;
  module: string | null;
}

export const SUBCLASSED_MODEL_KEY = 'subclassed_model';

const recordSchema = z.object({
  class_name: z.string(),
  registered_name: z.string().nullable().optional(),
  module: z.string().nullable().optional(),
});

/** The original class of a recorded graph; undefined for any other entry. */
export function recordedSubclass(entry: KerasObject): SubclassedModel | undefined {
  const parsed = recordSchema.safeParse(entry[SUBCLASSED_MODEL_KEY]);
  if (!parsed.success) return undefined;
  return { className: parsed.data.class_name, registeredName: parsed.data.registered_name ?? null, module: parsed.data.module ?? null };
}

/** "TinyBackbone (tinylib>TinyBackbone)": how reports name the class. */
export function describeSubclass(subclass: SubclassedModel): string {
  const registered = subclass.registeredName && subclass.registeredName !== subclass.className ? ` (${subclass.registeredName})` : '';
  return `${subclass.className}${registered}`;
}

/**
 * A keras.Model subclass as a model file holds it: a class from outside Keras whose entry has a
 * `compile_config` (Keras writes one for models only, keras/src/saving/serialization_lib.py) and
 * no recorded graph. Its config is constructor arguments, not layers.
 */
export function isUnrecordedSubclassedModel(entry: KerasObject): boolean {
  return !isBuiltinKerasModule(entry.module) && Object.hasOwn(entry, 'compile_config') && !(SUBCLASSED_MODEL_KEY in entry);
}

/** What to do with one, for messages; `topLevel`: the model itself, not a model used as a layer. */
export function subclassedModelAdvice(module: string | null | undefined, topLevel = false): string {
  const flag = module ? `--module ${module}` : '--module MODULE';
  const asLayer = topLevel ? 'call it as a layer inside a functional model (keras.Model(x, model(x))) and ' : '';
  return (
    `If it builds its graph in __init__ (keras.Input ... super().__init__(inputs, outputs)), export it with Python, which ` +
    `records that graph from the live model: keras-bridge export --model MODEL.keras ${flag} --out BUNDLE (or --factory), ` +
    `then convert BUNDLE. If it has its own call(), its graph exists only as Python code: ${asLayer}register a TypeScript ` +
    `implementation of the class, as for a custom layer`
  );
}

/** Stops a top-level model that is a keras.Model subclass with only constructor arguments in its config. */
export function refuseUnrecordedSubclassedModel(model: KerasObject, source: string): void {
  if (!isUnrecordedSubclassedModel(model)) return;
  const origin = model.module ? `, Python module '${model.module}'` : '';
  const fields = Object.keys(model.config);
  throw new UnsupportedLayerError(
    `${source}: the model is a keras.Model subclass (${model.registered_name ?? model.class_name}${origin}); its config holds ` +
      `only its constructor arguments (${fields.length > 0 ? fields.join(', ') : 'none'}), not its layer graph, so it cannot be ` +
      `converted from the file alone. ${subclassedModelAdvice(model.module, true)}.`,
  );
}
