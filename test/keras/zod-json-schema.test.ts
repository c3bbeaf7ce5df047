import assert from 'node:assert/strict';
import { z } from 'zod';
import { bundleManifestSchema } from '../../src/keras/bundle-manifest.js';
import { CONVERTED_ZOD_TYPES, UnsupportedZodTypeError, zodToJsonSchema, zodTypesIn } from '../../src/keras/zod-json-schema.js';
import { exportOptionsSchema } from '../../src/python-export/export-options.js';

const META = { id: 'x', title: 't', description: 'd' };
/** The schema part of the conversion, without $schema/$id/title/description. */
function body(schema: z.ZodTypeAny): Record<string, unknown> {
  const { $schema, $id, title, description, ...rest } = zodToJsonSchema(schema, META);
  void $schema, $id, title, description;
  return rest;
}

describe('zodToJsonSchema: the zod constructs of the manifest and export options, as JSON Schema', () => {
  it('strings, numbers (int, bounds), booleans, unknown, literals, enums', () => {
    assert.deepEqual(body(z.string().min(1).max(3).regex(/^a/)), { type: 'string', minLength: 1, maxLength: 3, pattern: '^a' });
    assert.deepEqual(body(z.number()), { type: 'number' });
    assert.deepEqual(body(z.number().int().nonnegative()), { type: 'integer', minimum: 0 });
    assert.deepEqual(body(z.number().int().positive()), { type: 'integer', exclusiveMinimum: 0 });
    assert.deepEqual(body(z.number().max(1)), { type: 'number', maximum: 1 });
    assert.deepEqual(body(z.boolean()), { type: 'boolean' });
    assert.deepEqual(body(z.unknown()), {});
    assert.deepEqual(body(z.literal('output')), { const: 'output' });
    assert.deepEqual(body(z.enum(['a', 'b'])), { enum: ['a', 'b'] });
  });

  it('arrays, records, objects (strip and strict closed, passthrough open), optional, nullable, default, unions', () => {
    assert.deepEqual(body(z.array(z.string()).min(1)), { type: 'array', items: { type: 'string' }, minItems: 1 });
    assert.deepEqual(body(z.record(z.number())), { type: 'object', additionalProperties: { type: 'number' } });
    const fields = { a: z.string(), b: z.number().optional(), c: z.boolean().default(true).describe('why') };
    const closed = { type: 'object', properties: { a: { type: 'string' }, b: { type: 'number' }, c: { description: 'why', type: 'boolean', default: true } }, required: ['a'], additionalProperties: false };
    assert.deepEqual(body(z.object(fields)), closed);
    assert.deepEqual(body(z.object(fields).strict()), closed);
    assert.deepEqual(body(z.object(fields).passthrough()), { ...closed, additionalProperties: true });
    assert.deepEqual(body(z.string().nullable()), { anyOf: [{ type: 'string' }, { type: 'null' }] });
    assert.deepEqual(body(z.union([z.string(), z.number()])), { anyOf: [{ type: 'string' }, { type: 'number' }] });
    const kinds = z.discriminatedUnion('kind', [z.object({ kind: z.literal('a') }), z.object({ kind: z.literal('b'), n: z.number() })]);
    assert.deepEqual(body(kinds), {
      anyOf: [
        { type: 'object', properties: { kind: { const: 'a' } }, required: ['kind'], additionalProperties: false },
        { type: 'object', properties: { kind: { const: 'b' }, n: { type: 'number' } }, required: ['kind', 'n'], additionalProperties: false },
      ],
    });
  });

  it('throws, naming the field, on any other zod type or check rather than converting half-way', () => {
    const refused: Array<[z.ZodTypeAny, RegExp]> = [
      [z.object({ when: z.date() }), /^when: zod type ZodDate/],
      [z.object({ a: z.object({ t: z.tuple([z.string()]) }) }), /^a\.t: zod type ZodTuple/],
      [z.string().email(), /string check 'email'/],
      [z.number().multipleOf(2), /number check 'multipleOf'/],
      [z.string().refine((s) => s.length > 0), /zod type ZodEffects/],
      [z.array(z.string()).length(2), /array \.length\(\)/],
      [z.record(z.string().min(1), z.number()), /record keys/],
      [z.object({}).catchall(z.string()), /catchall/],
      [z.map(z.string(), z.string()), /ZodMap/],
      [z.literal(undefined), /literal/],
    ];
    for (const [schema, message] of refused) assert.throws(() => zodToJsonSchema(schema, META), (e: Error) => e instanceof UnsupportedZodTypeError && message.test(e.message), message.source);
  });

  it('converts every construct the manifest and export-options schemas use (each has a converter)', () => {
    for (const schema of [bundleManifestSchema, exportOptionsSchema]) {
      const used = [...zodTypesIn(schema)];
      assert.deepEqual(used.filter((t) => !CONVERTED_ZOD_TYPES.includes(t)), []);
      assert.doesNotThrow(() => zodToJsonSchema(schema, META));
    }
    // The manifest uses most of them: a converter no schema uses would be untested code.
    const used = new Set([...zodTypesIn(bundleManifestSchema), ...zodTypesIn(exportOptionsSchema)]);
    assert.deepEqual(CONVERTED_ZOD_TYPES.filter((t) => !used.has(t)), []);
  });
});
