import type { Bundle } from '../keras/bundle.js';
import type { BundleDtype } from '../keras/bundle-manifest.js';

/** One Keras weight and its raw little-endian bytes, wherever it was read from. */
export interface SourceWeight {
  layer: string;
  /** Position in the Keras layer's `weights` list. */
  index: number;
  name: string;
  path: string;
  shape: number[];
  dtype: BundleDtype;
  bytes: Uint8Array;
}

export function weightsFromBundle(bundle: Bundle): SourceWeight[] {
  return bundle.manifest.weights.map((w) => ({
    layer: w.layer,
    index: w.index,
    name: w.name,
    path: w.path,
    shape: w.shape,
    dtype: w.dtype,
    bytes: bundle.weightBytes.subarray(w.offset, w.offset + w.byte_length),
  }));
}
