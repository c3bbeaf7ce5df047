import tf from '#tfjs';
import type { BundleDtype } from '../keras/bundle-manifest.js';
import { InputError } from '../errors.js';
import { toFloat64, type PackedTensor } from '../keras/packed-tensor.js';

/** The tfjs dtype a golden of each bundle dtype is fed as (tfjs has no 64-bit or narrow integer tensors). */
const TFJS_DTYPE_OF: Record<BundleDtype, 'float32' | 'int32' | 'bool'> = {
  float32: 'float32',
  float64: 'float32',
  int32: 'int32',
  int64: 'int32',
  bool: 'bool',
  uint8: 'int32',
  int8: 'int32',
  uint16: 'int32',
  int16: 'int32',
};

/** The values each narrow integer dtype holds, [low, high]: a value outside means a corrupt bundle. */
const NARROW_INTEGER_RANGE: Partial<Record<BundleDtype, [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  uint16: [0, 65535],
  int16: [-32768, 32767],
};

/** A golden tensor as a tfjs tensor on the active backend. */
export function goldenTensor(packed: PackedTensor): tf.Tensor {
  const dtype = TFJS_DTYPE_OF[packed.dtype];
  const values = toFloat64(packed);
  if (packed.dtype === 'int64') {
    const outside = values.find((v) => v > 2147483647 || v < -2147483648);
    if (outside !== undefined) throw new InputError(`an int64 golden holds ${outside}, which does not fit tfjs's int32 (tfjs has no int64 tensors); export with --input-range to keep the values within int32.`);
  }
  const range = NARROW_INTEGER_RANGE[packed.dtype];
  if (range) {
    const outside = values.find((v) => !Number.isInteger(v) || v < range[0] || v > range[1]);
    if (outside !== undefined) throw new InputError(`a ${packed.dtype} golden holds ${outside}, outside ${packed.dtype}'s range [${range[0]}, ${range[1]}].`);
  }
  return tf.tensor(dtype === 'float32' ? Float32Array.from(values) : Int32Array.from(values), packed.shape, dtype);
}
