import { UnsupportedLayerError } from '../errors.js';
import type { TranslationContext } from './translation-context.js';

/**
 * How one Keras config field becomes a tfjs config field. Returns the tfjs key and value, or
 * undefined after noting on the context why the field was dropped.
 */
export type FieldRule = (
  value: unknown,
  context: TranslationContext,
  field: string,
) => { key: string; value: unknown } | undefined;

/** Applies `rules` to every field of `config`. A field with no rule is dropped and noted. */
export function translateFields(
  config: Record<string, unknown>,
  rules: Record<string, FieldRule>,
  context: TranslationContext,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(config)) {
    // Own fields only: a config key such as 'constructor' must not find Object's.
    const rule = Object.hasOwn(rules, field) ? rules[field] : undefined;
    if (!rule) {
      context.dropped(field, 'tfjs-layers has no equivalent option', value);
      continue;
    }
    const translated = rule(value, context, field);
    if (translated) out[translated.key] = translated.value;
  }
  return out;
}

export const copy: FieldRule = (value, _context, field) => ({ key: field, value });

export function rename(key: string): FieldRule {
  return (value, context, field) => {
    context.changed(field, field, key, `tfjs-layers calls this field '${key}'`);
    return { key, value };
  };
}

/**
 * A field tfjs lacks that is harmless at its default: dropped (and noted) when `isDefault`,
 * refused otherwise, since ignoring it would change what the layer computes.
 */
export function droppedAtDefault(isDefault: (value: unknown) => boolean, meaning: string): FieldRule {
  return (value, context, field) => {
    if (!isDefault(value)) {
      throw new UnsupportedLayerError(
        `${context.where(field)}: value ${JSON.stringify(value)} is not supported: ${meaning}.`,
      );
    }
    context.dropped(field, `at its default; ${meaning}`, value);
    return undefined;
  };
}

export const isNullish = (value: unknown): boolean => value === null || value === undefined;
export const isFalse = (value: unknown): boolean => value === false || isNullish(value);
