import type { KerasObject } from '../keras/keras-object.js';
import type { TranslationContext } from './translation-context.js';

/** A layer config in tfjs-layers' (Keras 2 style, snake_case) model.json form. */
export interface TfjsLayerConfig {
  class_name: string;
  config: Record<string, unknown>;
}

/** Translates one Keras 3 layer entry to its tfjs-layers form, noting every field it changes. */
export type LayerTranslator = (layer: KerasObject, context: TranslationContext) => TfjsLayerConfig;

/** A Keras class that lives outside keras.layers, as a saved config names it (`module`, `class_name`). */
export interface ModuleClass {
  module: string;
  className: string;
}

const translators = new Map<string, LayerTranslator>();
const moduleTranslators = new Map<string, LayerTranslator>();
const moduleKey = (module: string, className: string) => `${module}:${className}`;

/** Registers `translator` for Keras classes `kerasClassNames` (as written in `class_name`). */
export function registerTranslator(kerasClassNames: readonly string[], translator: LayerTranslator): void {
  for (const name of kerasClassNames) translators.set(name, translator);
}

/**
 * Registers `translator` for Keras classes defined outside keras.layers (keras.applications'
 * LayerScale, …), found only under the module a saved config records for them: such a name is no
 * Keras layer name, and a class of the same name elsewhere is another class.
 */
export function registerModuleTranslator(classes: readonly ModuleClass[], translator: LayerTranslator): void {
  for (const { module, className } of classes) moduleTranslators.set(moduleKey(module, className), translator);
}

/** The translator of a Keras layer class (`module` as its config records it, for the classes registerModuleTranslator keys). */
export function findTranslator(kerasClassName: string, module?: string | null): LayerTranslator | undefined {
  return (module ? moduleTranslators.get(moduleKey(module, kerasClassName)) : undefined) ?? translators.get(kerasClassName);
}

/** The keras.layers classes with a translator. */
export function translatedKerasClasses(): string[] {
  return [...translators.keys()].sort();
}

/** The classes registered by module (registerModuleTranslator), sorted by class name. */
export function translatedModuleClasses(): ModuleClass[] {
  return [...moduleTranslators.keys()]
    .map((key) => ({ module: key.slice(0, key.lastIndexOf(':')), className: key.slice(key.lastIndexOf(':') + 1) }))
    .sort((a, b) => a.className.localeCompare(b.className) || a.module.localeCompare(b.module));
}
