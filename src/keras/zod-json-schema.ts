import { z } from 'zod';

/**
 * A JSON Schema (draft 2020-12) for the zod constructs our cross-language contracts use: the bundle
 * manifest (bundle-manifest.ts) and the export options (python-export/export-options.ts). Python
 * validates what it writes and reads against these (python/keras_bridge/contract.py), so the zod
 * schema stays the one definition. Our own converter rather than a dependency: the constructs are
 * few, and any other one throws, so a schema can never be converted half-way.
 *
 * Objects: zod's default (strip) and .strict() both become additionalProperties false, since the
 * schema says what a writer may write: a field the TypeScript reader would silently drop is a
 * writer bug the contract must catch. .passthrough() allows other properties.
 */
export type JsonSchema = { [key: string]: unknown };

export class UnsupportedZodTypeError extends Error {}

type Converter = (def: any, at: string) => JsonSchema;

/** One converter per zod type name: a registry, so an unknown type is one clear error. */
const CONVERTERS: Record<string, Converter> = {
  ZodString: (def, at) => {
    const out: JsonSchema = { type: 'string' };
    for (const check of def.checks as Array<{ kind: string; value?: number; regex?: RegExp }>) {
      if (check.kind === 'min') out['minLength'] = check.value;
      else if (check.kind === 'max') out['maxLength'] = check.value;
      else if (check.kind === 'regex') out['pattern'] = check.regex!.source;
      else throw new UnsupportedZodTypeError(`${at}: string check '${check.kind}' has no JSON Schema conversion`);
    }
    return out;
  },
  ZodNumber: (def, at) => {
    const out: JsonSchema = { type: 'number' };
    for (const check of def.checks as Array<{ kind: string; value?: number; inclusive?: boolean }>) {
      if (check.kind === 'int') out['type'] = 'integer';
      else if (check.kind === 'min') out[check.inclusive ? 'minimum' : 'exclusiveMinimum'] = check.value;
      else if (check.kind === 'max') out[check.inclusive ? 'maximum' : 'exclusiveMaximum'] = check.value;
      else throw new UnsupportedZodTypeError(`${at}: number check '${check.kind}' has no JSON Schema conversion`);
    }
    return out;
  },
  ZodBoolean: () => ({ type: 'boolean' }),
  ZodUnknown: () => ({}),
  ZodLiteral: (def, at) => {
    if (!['string', 'number', 'boolean'].includes(typeof def.value)) throw new UnsupportedZodTypeError(`${at}: literal ${String(def.value)}`);
    return { const: def.value };
  },
  ZodEnum: (def) => ({ enum: [...(def.values as string[])] }),
  ZodArray: (def, at) => {
    const out: JsonSchema = { type: 'array', items: convert(def.type, `${at}[]`) };
    if (def.minLength) out['minItems'] = def.minLength.value;
    if (def.maxLength) out['maxItems'] = def.maxLength.value;
    if (def.exactLength) throw new UnsupportedZodTypeError(`${at}: array .length() has no conversion here`);
    return out;
  },
  ZodRecord: (def, at) => {
    if (def.keyType._def.typeName !== 'ZodString' || def.keyType._def.checks.length > 0) throw new UnsupportedZodTypeError(`${at}: record keys other than plain strings`);
    return { type: 'object', additionalProperties: convert(def.valueType, `${at}.*`) };
  },
  ZodObject: (def, at) => {
    const shape = def.shape() as Record<string, z.ZodTypeAny>;
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const [key, value] of Object.entries(shape)) {
      properties[key] = convert(value, at ? `${at}.${key}` : key);
      if (!value.isOptional()) required.push(key);
    }
    if (def.catchall._def.typeName !== 'ZodNever') throw new UnsupportedZodTypeError(`${at}: object .catchall()`);
    const out: JsonSchema = { type: 'object', properties };
    if (required.length > 0) out['required'] = required;
    out['additionalProperties'] = def.unknownKeys === 'passthrough';
    return out;
  },
  ZodOptional: (def, at) => convert(def.innerType, at),
  ZodNullable: (def, at) => ({ anyOf: [convert(def.innerType, at), { type: 'null' }] }),
  ZodDefault: (def, at) => ({ ...convert(def.innerType, at), default: def.defaultValue() }),
  ZodUnion: (def, at) => ({ anyOf: (def.options as z.ZodTypeAny[]).map((o, i) => convert(o, `${at}|${i}`)) }),
  // A discriminated union is an anyOf whose branches differ in one const property.
  ZodDiscriminatedUnion: (def, at) => ({ anyOf: (def.options as z.ZodTypeAny[]).map((o, i) => convert(o, `${at}|${i}`)) }),
};

/** The zod type names `zodToJsonSchema` converts; any other one throws UnsupportedZodTypeError. */
export const CONVERTED_ZOD_TYPES: readonly string[] = Object.keys(CONVERTERS);

function convert(schema: z.ZodTypeAny, at: string): JsonSchema {
  const def = schema._def as { typeName?: string; description?: string };
  const converter = def.typeName ? CONVERTERS[def.typeName] : undefined;
  if (!converter) throw new UnsupportedZodTypeError(`${at || '(root)'}: zod type ${def.typeName ?? '(unknown)'} has no JSON Schema conversion`);
  const out = converter(def, at);
  return def.description ? { description: def.description, ...out } : out;
}

/** The JSON Schema document for `schema`, with its $id and title. */
export function zodToJsonSchema(schema: z.ZodTypeAny, meta: { id: string; title: string; description: string }): JsonSchema {
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: meta.id, title: meta.title, description: meta.description, ...convert(schema, '') };
}

/** Every zod type name used anywhere inside `schema` (to prove a test covers each construct). */
export function zodTypesIn(schema: z.ZodTypeAny, seen = new Set<string>()): Set<string> {
  const def = schema._def as any;
  seen.add(def.typeName);
  const children: z.ZodTypeAny[] = [];
  if (def.typeName === 'ZodObject') children.push(...Object.values(def.shape() as Record<string, z.ZodTypeAny>));
  if (def.typeName === 'ZodArray') children.push(def.type);
  if (def.typeName === 'ZodRecord') children.push(def.valueType);
  if (['ZodOptional', 'ZodNullable', 'ZodDefault'].includes(def.typeName)) children.push(def.innerType);
  if (['ZodUnion', 'ZodDiscriminatedUnion'].includes(def.typeName)) children.push(...(def.options as z.ZodTypeAny[]));
  for (const child of children) zodTypesIn(child, seen);
  return seen;
}
