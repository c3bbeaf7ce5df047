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
  /**
   * Set when the source does not give the weight's place in Keras's `layer.weights` (a .keras
   * file's custom layer holding weights in sub-layers; `index` is then only the file's order): the
   * Keras name path of the object holding it (`block/proj`) and its position among that object's
   * variables. The converter pairs it with the tfjs weight named `<path>/<weight>`.
   */
  owner?: { path: string; position: number };
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
