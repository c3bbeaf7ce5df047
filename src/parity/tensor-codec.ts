/**
 * The one codec for evaluations crossing from a browser page to Node (playwright passes JSON):
 * Maps and typed arrays, at any depth, become tagged plain objects, and typed arrays travel as
 * base64 of their bytes (a JSON array of floats is about 4x bigger). Everything else passes as is.
 * Runs in both runtimes: btoa/atob exist in browsers and in Node 20.
 */
export type Encoded = null | boolean | number | string | Encoded[] | { [key: string]: Encoded };

const TYPED_ARRAYS = { float32: Float32Array, int32: Int32Array, bool: Uint8Array } as const;
type TypedDtype = keyof typeof TYPED_ARRAYS;

/** Tags: a property name no evaluation uses. */
const MAP_TAG = '$map';
const TENSOR_TAG = '$typed';

export function encodeEvaluation(value: unknown): Encoded {
  if (value instanceof Map) return { [MAP_TAG]: [...value].map(([k, v]) => [encodeEvaluation(k), encodeEvaluation(v)]) };
  if (ArrayBuffer.isView(value)) return { [TENSOR_TAG]: typedDtype(value), base64: toBase64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  if (Array.isArray(value)) return value.map(encodeEvaluation);
  if (value === undefined) return null;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, encodeEvaluation(v)]));
  }
  return value as Encoded;
}

export function decodeEvaluation(value: Encoded): unknown {
  if (Array.isArray(value)) return value.map(decodeEvaluation);
  if (value === null || typeof value !== 'object') return value;
  if (MAP_TAG in value) return new Map((value[MAP_TAG] as Encoded[][]).map(([k, v]) => [decodeEvaluation(k!), decodeEvaluation(v!)]));
  if (TENSOR_TAG in value) {
    const bytes = fromBase64(value['base64'] as string);
    const Typed = TYPED_ARRAYS[value[TENSOR_TAG] as TypedDtype];
    if (!Typed) throw new Error(`tensor codec: unknown dtype '${String(value[TENSOR_TAG])}'`);
    return new Typed(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / Typed.BYTES_PER_ELEMENT);
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decodeEvaluation(v)]));
}

function typedDtype(view: ArrayBufferView): TypedDtype {
  if (view instanceof Float32Array) return 'float32';
  if (view instanceof Int32Array) return 'int32';
  if (view instanceof Uint8Array) return 'bool';
  throw new Error(`tensor codec: cannot encode a ${view.constructor.name}`);
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Node's Buffer where there is one (its atob is slow on megabytes), else atob. */
const NodeBuffer = (globalThis as { Buffer?: { from(text: string, encoding: 'base64'): Uint8Array } }).Buffer;

function fromBase64(text: string): Uint8Array {
  // A copy into a fresh buffer either way: a Float32Array needs an offset that is a multiple of 4.
  if (NodeBuffer) return new Uint8Array(NodeBuffer.from(text, 'base64'));
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
