import type { KerasObject } from '../keras/keras-object.js';
import type { TranslationContext } from './translation-context.js';

/** A layer config in tfjs-layers' (Keras 2 style, snake_case) model.json form. */
export interface TfjsLayerConfig {
  class_name: string;
  config: Record<string, unknown>;
}

/** Translates one Keras 3 layer entry to its tfjs-layers form, noting every field it changes. */
export type LayerTranslator = (layer: KerasObject, context: TranslationContext) => TfjsLayerConfig;

const translators = new Map<string, LayerTranslator>();

/** Registers `translator` for Keras classes `kerasClassNames` (as written in `class_name`). */
export function registerTranslator(kerasClassNames: readonly string[], translator: LayerTranslator): void {
  for (const name of kerasClassNames) translators.set(name, translator);
}

export function findTranslator(kerasClassName: string): LayerTranslator | undefined {
  return translators.get(kerasClassName);
}

export function translatedKerasClasses(): string[] {
  return [...translators.keys()].sort();
}
