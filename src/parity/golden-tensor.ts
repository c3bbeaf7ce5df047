import * as tf from '@tensorflow/tfjs';
import type { BundleDtype } from '../keras/bundle-manifest.js';
import { InputError } from '../errors.js';
import { toFloat64, type PackedTensor } from '../keras/packed-tensor.js';

/** The tfjs dtype a golden of each bundle dtype is fed as (tfjs has no 64-bit tensors). */
const TFJS_DTYPE_OF: Record<BundleDtype, 'float32' | 'int32' | 'bool'> = {
  float32: 'float32',
  float64: 'float32',
  int32: 'int32',
  int64: 'int32',
  bool: 'bool',
};

/** A golden tensor as a tfjs tensor on the active backend. */
export function goldenTensor(packed: PackedTensor): tf.Tensor {
  const dtype = TFJS_DTYPE_OF[packed.dtype];
  const values = toFloat64(packed);
  if (packed.dtype === 'int64') {
    const outside = values.find((v) => v > 2147483647 || v < -2147483648);
    if (outside !== undefined) throw new InputError(`an int64 golden holds ${outside}, which does not fit tfjs's int32 (tfjs has no int64 tensors); export with --input-range to keep the values within int32.`);
  }
  return tf.tensor(dtype === 'float32' ? Float32Array.from(values) : Int32Array.from(values), packed.shape, dtype);
}
