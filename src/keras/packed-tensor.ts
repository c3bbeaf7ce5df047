import type { BundleDtype } from './bundle-manifest.js';

/** A tensor read from a bundle: values plus shape, independent of any tfjs backend. */
export interface PackedTensor {
  shape: number[];
  dtype: BundleDtype;
  values: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array | Int16Array;
}

const BYTES_PER_ELEMENT: Record<BundleDtype, number> = {
  float32: 4,
  float64: 8,
  int32: 4,
  int64: 8,
  bool: 1,
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
};

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

export function expectedByteLength(shape: readonly number[], dtype: BundleDtype): number {
  return elementCount(shape) * BYTES_PER_ELEMENT[dtype];
}

/** Copies `byteLength` bytes at `offset` out of `file` into a typed array of `dtype`. */
export function unpackTensor(
  file: Uint8Array,
  location: { shape: number[]; dtype: BundleDtype; offset: number; byte_length: number },
): PackedTensor {
  const { shape, dtype, offset, byte_length } = location;
  // Copy (Uint8Array's slice, not Buffer's, which would share memory) so that the typed
  // array is aligned whatever the offset was.
  const bytes = Uint8Array.prototype.slice.call(file, offset, offset + byte_length).buffer;
  const values = {
    float32: () => new Float32Array(bytes),
    float64: () => new Float64Array(bytes),
    int32: () => new Int32Array(bytes),
    int64: () => new BigInt64Array(bytes),
    bool: () => new Uint8Array(bytes),
    uint8: () => new Uint8Array(bytes),
    int8: () => new Int8Array(bytes),
    uint16: () => new Uint16Array(bytes),
    int16: () => new Int16Array(bytes),
  }[dtype]();
  return { shape, dtype, values };
}

/** Values as float64 numbers, the common ground for comparing tensors of any dtype. */
export function toFloat64(tensor: PackedTensor): Float64Array {
  const { values } = tensor;
  if (values instanceof BigInt64Array) return Float64Array.from(values, (v) => Number(v));
  return Float64Array.from(values as ArrayLike<number>);
}
