import * as tf from '@tensorflow/tfjs';
import type { BundleDtype } from '../keras/bundle-manifest.js';
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
  return tf.tensor(dtype === 'float32' ? Float32Array.from(values) : Int32Array.from(values), packed.shape, dtype);
}
