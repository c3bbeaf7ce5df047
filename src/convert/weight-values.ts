import { float32AllFinite } from './finite-check.js';
import { WeightMismatchError } from '../errors.js';
import type { BundleDtype } from '../keras/bundle-manifest.js';

/** The dtypes a tfjs weight can have. */
export type WeightDtype = 'float32' | 'int32' | 'bool';

const SOURCE_BYTES: Partial<Record<BundleDtype, number>> = { float32: 4, float64: 8, int32: 4, int64: 8, bool: 1 };

/** Why a weight's values change dtype on the way into tfjs, for the report; undefined when they do not. */
export function castReason(from: BundleDtype, to: WeightDtype, where: string): string | undefined {
  if (SOURCE_BYTES[from] === undefined) throw new WeightMismatchError(`${where}: weights of dtype ${from} are not read by keras-bridge.`);
  if (from === to) return undefined;
  if (to === 'int32') return from === 'int64' ? 'tfjs has no int64 tensors; every value fits int32' : `the tfjs variable is int32; every ${from} value fits`;
  if (to === 'bool') return 'the tfjs variable is bool';
  return `the tfjs variable is float32; values cast as Keras's load_weights casts them`;
}

/** The bytes a weight of `shape` and `dtype` must have. */
export function storedByteLength(shape: readonly number[], dtype: BundleDtype): number {
  return shape.reduce((n, d) => n * d, 1) * (SOURCE_BYTES[dtype] ?? 1);
}

/**
 * The Keras bytes in the tfjs variable's dtype: unchanged when they agree, else each value
 * converted (float64 rounded to float32, integers to float32 exactly up to 2^24, int64 narrowed
 * to int32 only when every value fits).
 */
export function castWeightBytes(bytes: Uint8Array, from: BundleDtype, to: WeightDtype, where: string): Uint8Array {
  if (from === to) return bytes;
  const values = sourceValues(bytes, from, where);
  if (to === 'int32') {
    const out = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const n = typeof v === 'bigint' ? v : Number.isInteger(v) ? BigInt(v) : undefined;
      if (n === undefined || n > 2147483647n || n < -2147483648n) throw new WeightMismatchError(`${where}: ${from} value ${v} does not fit tfjs's int32 variable.`);
      out[i] = Number(n);
    }
    return new Uint8Array(out.buffer);
  }
  if (to === 'bool') {
    const out = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = Number(values[i]) !== 0 ? 1 : 0;
    return out;
  }
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Number(values[i]);
  return new Uint8Array(out.buffer);
}

function sourceValues(bytes: Uint8Array, dtype: BundleDtype, where: string): ArrayLike<number | bigint> {
  const buffer = Uint8Array.prototype.slice.call(bytes).buffer;
  switch (dtype) {
    case 'float32': return new Float32Array(buffer);
    case 'float64': return new Float64Array(buffer);
    case 'int32': return new Int32Array(buffer);
    case 'int64': return new BigInt64Array(buffer);
    case 'bool': return new Uint8Array(buffer);
    default: throw new WeightMismatchError(`${where}: weights of dtype ${dtype} are not read by keras-bridge.`);
  }
}

/** A float32 weight holding NaN or ±Inf: a model trained into divergence, or a damaged file. */
export interface NonFiniteWeight {
  layer: string;
  weight: string;
  nan: number;
  infinite: number;
  elements: number;
  message: string;
}

/** float32 values, viewed in place when aligned (a shard's bytes are not copied to be checked). */
export function float32Values(bytes: Uint8Array): Float32Array {
  return bytes.byteOffset % 4 === 0
    ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)
    : new Float32Array(Uint8Array.prototype.slice.call(bytes).buffer);
}

/**
 * NaN and ±Inf among a float32 weight's values, counted; undefined when there are none.
 * `knownFinite`: a reader already checked every value as it copied them (hdf5-file.ts), so
 * they are not read again.
 */
export function nonFiniteWarning(values: Float32Array, layer: string, weight: string, where: string, knownFinite = false): NonFiniteWeight | undefined {
  if (knownFinite || float32AllFinite(values)) return undefined;
  let nan = 0;
  let infinite = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) nan++;
    else if (!Number.isFinite(v)) infinite++;
  }
  const message = `${where} holds ${nan} NaN and ${infinite} infinite values of ${values.length}: the model's outputs will be NaN or Inf`;
  return { layer, weight, nan, infinite, elements: values.length, message };
}
