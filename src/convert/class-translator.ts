import { baseLayerFields } from './base-layer-fields.js';
import { translateFields, type FieldRule } from './field-rules.js';
import { constraint, initializer, regularizer } from './keras-objects.js';
import type { KerasObject } from '../keras/keras-object.js';
import type { TranslationContext } from './translation-context.js';
import type { TfjsLayerConfig } from './translator-registry.js';

// Building blocks of the translators that map a Keras class to one tfjs class (most often one of
// keras-bridge's own, src/layers/keras3) by field rules, which several family files share.

/** A translator to `tfjsClass` with `rules` on top of the base layer fields. */
export function to(tfjsClass: string, rules: Record<string, FieldRule>) {
  return (layer: KerasObject, context: TranslationContext): TfjsLayerConfig => ({
    class_name: tfjsClass,
    config: translateFields(layer.config, { ...baseLayerFields, ...rules }, context),
  });
}

/** A weight's Keras fields `<prefix>_initializer`, `_regularizer`, `_constraint`. */
export function weightFields(prefix: string): Record<string, FieldRule> {
  return {
    [`${prefix}_initializer`]: initializer,
    [`${prefix}_regularizer`]: regularizer,
    [`${prefix}_constraint`]: constraint,
  };
}

/** Activity regularizers add a training loss and never change outputs or gradients of ours. */
export const trainingLossOnly: FieldRule = (value, context, field) => {
  context.dropped(field, 'an activity regularizer only adds a training loss', value);
  return undefined;
};

/** A 1D layer's value (a pair, or a size) as the one-axis list our N-D layer takes. */
export const oneAxis: FieldRule = (value, context, field) => {
  context.changed(field, value, [value], "keras-bridge's layer takes one entry per spatial axis");
  return { key: field, value: [value] };
};
