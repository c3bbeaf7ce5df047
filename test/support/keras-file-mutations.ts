import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { strFromU8, strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import { REPO_ROOT } from './paths.js';

// Random mutations of the Keras model files in fixtures/keras/, for the fuzz test
// (test/keras/keras-file-fuzz.test.ts): whole-file byte changes, structured edits of a .keras
// file's config.json (rezipped), byte changes of its model.weights.h5, and same-length edits of a
// legacy .h5 file's model_config JSON. Mutations are plain data, so fast-check prints a failing case readably.

export const KERAS_FIXTURES = path.join(REPO_ROOT, 'fixtures', 'keras');
export const FILES = readdirSync(KERAS_FIXTURES).filter((f) => /\.(keras|h5)$/.test(f)).sort();
const BYTES = new Map(FILES.map((f) => [f, new Uint8Array(readFileSync(path.join(KERAS_FIXTURES, f)))]));

/** What a .keras zip holds, its JSON parsed once. */
const ARCHIVES = new Map(
  FILES.filter((f) => f.endsWith('.keras')).map((f) => {
    const entries = unzipSync(BYTES.get(f)!);
    return [f, { entries, config: JSON.parse(strFromU8(entries['config.json']!)) as unknown }];
  }),
);

type ByteMutation =
  | { kind: 'flip'; changes: Array<[number, number]> }
  | { kind: 'truncate'; at: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number };

type JsonOp =
  | { op: 'replace'; value: unknown }
  | { op: 'delete' }
  | { op: 'number'; value: number | string }
  | { op: 'string'; value: string }
  | { op: 'swap'; from: number }
  | { op: 'duplicate' };

export type Mutation =
  | { target: 'file'; mutation: ByteMutation }
  | { target: 'config.json'; at: number; edit: JsonOp }
  | { target: 'config.json'; edits: Array<{ at: number; edit: JsonOp }> }
  | { target: 'model.weights.h5'; mutation: ByteMutation }
  | { target: 'h5 model_config'; changes: Array<[number, number]> };

const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), changes: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 512 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 512 }) }) },
);

/** Values that break numeric fields: huge, negative, fractional, not numbers at all. */
const HOSTILE_NUMBERS = [0, -1, -1e9, 1.5, 1e308, 2 ** 31, 2 ** 32 + 1, 2 ** 53 + 2, 1e6, 65536, 'NaN', 'Infinity', '-1'];
/** Strings that break name and class fields. */
const HOSTILE_STRINGS = ['', 'x', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'a'.repeat(300), 'float16', 'int64', 'bool', 'channels_first', 'same', 'causal', 'linear', 'relu', '0'];

const jsonOp: fc.Arbitrary<JsonOp> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('replace' as const), value: fc.jsonValue({ maxDepth: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('number' as const), value: fc.constantFrom(...HOSTILE_NUMBERS) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('string' as const), value: fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ maxLength: 8 })) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('swap' as const), from: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicate' as const) }) },
);
const jsonEdit = fc.record({ at: fc.nat(), edit: jsonOp });

export function mutationFor(file: string): fc.Arbitrary<Mutation> {
  const whole = byteMutation.map((mutation) => ({ target: 'file' as const, mutation }));
  if (file.endsWith('.h5')) {
    return fc.oneof(
      whole,
      fc.record({ target: fc.constant('h5 model_config' as const), changes: fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 4 }) }),
    );
  }
  return fc.oneof(
    { weight: 2, arbitrary: whole },
    { weight: 5, arbitrary: jsonEdit.map(({ at, edit }) => ({ target: 'config.json' as const, at, edit })) },
    { weight: 2, arbitrary: fc.array(jsonEdit, { minLength: 2, maxLength: 4 }).map((edits) => ({ target: 'config.json' as const, edits })) },
    { weight: 2, arbitrary: byteMutation.map((mutation) => ({ target: 'model.weights.h5' as const, mutation })) },
  );
}

function mutateBytes(bytes: Uint8Array, m: ByteMutation): Uint8Array {
  const n = bytes.length;
  switch (m.kind) {
    case 'flip': {
      const out = bytes.slice();
      for (const [at, value] of m.changes) out[at % n] = value;
      return out;
    }
    case 'truncate':
      return bytes.slice(0, m.at % n);
    case 'delete': {
      const at = m.at % n;
      return concat(bytes.subarray(0, at), bytes.subarray(Math.min(n, at + m.length)));
    }
    case 'duplicate': {
      const at = m.at % n;
      const range = bytes.subarray(at, Math.min(n, at + m.length));
      return concat(bytes.subarray(0, at), range, bytes.subarray(at));
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

type JsonPath = Array<string | number>;

/** Every value's path in a JSON document, depth first (the root excluded). */
function jsonPaths(value: unknown, prefix: JsonPath = [], into: JsonPath[] = []): JsonPath[] {
  if (prefix.length > 0) into.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => jsonPaths(v, [...prefix, i], into));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) jsonPaths(v, [...prefix, k], into);
  return into;
}

function valueAt(root: unknown, at: JsonPath): unknown {
  return at.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], root);
}

function applyJsonEdit(root: unknown, at: number, edit: JsonOp): void {
  const paths = jsonPaths(root);
  if (paths.length === 0) return;
  const target = paths[at % paths.length]!;
  const parent = valueAt(root, target.slice(0, -1)) as Record<string | number, unknown> | unknown[];
  const key = target.at(-1)!;
  const set = (value: unknown) => ((parent as Record<string | number, unknown>)[key] = value);
  switch (edit.op) {
    case 'replace':
      return void set(structuredClone(edit.value));
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
      return;
    case 'number':
      return void set(edit.value);
    case 'string':
      return void set(edit.value);
    case 'swap':
      // Another value of the same document: a layer name where another is expected, a node for a node.
      return void set(structuredClone(valueAt(root, paths[edit.from % paths.length]!)));
    case 'duplicate':
      if (Array.isArray(parent)) parent.splice(key as number, 0, structuredClone(parent[key as number]));
      else set([structuredClone(parent[key as string]), structuredClone(parent[key as string])]);
      return;
  }
}

/** The file's model_config JSON attribute, as bytes in a legacy .h5 file. */
function jsonRegion(bytes: Uint8Array): [number, number] {
  const text = Buffer.from(bytes).toString('latin1');
  const start = text.indexOf('{"class_name"');
  if (start < 0) return [0, bytes.length];
  let end = start;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return [start, end];
}

/** Same-length edits of the JSON text: structure characters, digits, quotes. */
const JSON_CHARS = strToU8('{}[]":,0123456789-.eE nulltruefalse_axyz');

export function mutate(file: string, m: Mutation): Uint8Array {
  const original = BYTES.get(file)!;
  switch (m.target) {
    case 'file':
      return mutateBytes(original, m.mutation);
    case 'h5 model_config': {
      const [start, end] = jsonRegion(original);
      const out = original.slice();
      for (const [at, c] of m.changes) out[start + (at % (end - start))] = JSON_CHARS[c % JSON_CHARS.length]!;
      return out;
    }
    case 'config.json': {
      const { entries, config } = ARCHIVES.get(file)!;
      const edited = structuredClone(config);
      for (const { at, edit } of 'edits' in m ? m.edits : [{ at: m.at, edit: m.edit }]) applyJsonEdit(edited, at, edit);
      return rezip(entries, { 'config.json': strToU8(JSON.stringify(edited)) });
    }
    case 'model.weights.h5': {
      const { entries } = ARCHIVES.get(file)!;
      return rezip(entries, { 'model.weights.h5': mutateBytes(entries['model.weights.h5']!, m.mutation) });
    }
  }
}

/** The archive again, some entries replaced; the weights stored uncompressed, as Keras writes them. */
function rezip(entries: Record<string, Uint8Array>, replaced: Record<string, Uint8Array>): Uint8Array {
  const all: Zippable = {};
  for (const [name, bytes] of Object.entries({ ...entries, ...replaced })) all[name] = name.endsWith('.h5') ? [bytes, { level: 0 }] : bytes;
  return zipSync(all);
}
