import { InputError } from '../errors.js';

/**
 * Bounds on a JSON document from a model file (config.json, a legacy .h5's model_config, a
 * bundle's manifest). Checked once, right after JSON.parse, with an explicit stack: what follows
 * (zod, the translators, tfjs) recurses over configs and looks keys up in objects.
 */
export interface JsonLimits {
  /** Nesting of arrays and objects; Keras configs of real models stay under 40. */
  maxDepth: number;
  /** Characters in one string (a vocabulary is a list of short strings; a 1 MB name is an attack). */
  maxStringLength: number;
}

export const DEFAULT_JSON_LIMITS: JsonLimits = { maxDepth: 256, maxStringLength: 1024 * 1024 };

/** Keys JavaScript treats specially when an object is copied or spread: none belongs in a Keras config. */
const FORBIDDEN_KEYS = new Set(['__proto__']);

/** Parses `text` and checks it against `limits`; every failure is an InputError naming `where` and the field. */
export function parseUntrustedJson(text: string, where: string, limits: JsonLimits = DEFAULT_JSON_LIMITS): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${where}: not valid JSON (${(e as Error).message.slice(0, 200)}).`);
  }
  checkJsonShape(value, where, limits);
  return value;
}

/** Checks an already parsed document: depth, string length and forbidden keys. */
export function checkJsonShape(value: unknown, where: string, limits: JsonLimits = DEFAULT_JSON_LIMITS): void {
  const pending: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: '', depth: 0 }];
  while (pending.length > 0) {
    const item = pending.pop()!;
    if (typeof item.value === 'string') {
      if (item.value.length > limits.maxStringLength) {
        throw new InputError(
          `${where}: field '${fieldName(item.path)}' is a string of ${item.value.length} characters, more than the ` +
            `${limits.maxStringLength} a Keras config holds.`,
        );
      }
      continue;
    }
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth >= limits.maxDepth) {
      throw new InputError(`${where}: nested deeper than ${limits.maxDepth} levels (at '${fieldName(item.path).slice(0, 120)}…'); a Keras config is a few dozen deep.`);
    }
    if (Array.isArray(item.value)) {
      item.value.forEach((child, i) => pending.push({ value: child, path: `${item.path}[${i}]`, depth: item.depth + 1 }));
      continue;
    }
    for (const key of Object.keys(item.value)) {
      const path = item.path ? `${item.path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) throw new InputError(`${where}: field '${fieldName(path)}': the key '${key}' is not allowed in a model config.`);
      pending.push({ value: (item.value as Record<string, unknown>)[key], path, depth: item.depth + 1 });
    }
  }
}

function fieldName(path: string): string {
  const name = path || '(the document)';
  return name.length <= 200 ? name : `${name.slice(0, 200)}…`;
}
