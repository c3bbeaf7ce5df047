/**
 * Bounds on what an HDF5 file (model.weights.h5 inside a .keras, or a legacy .h5) may declare,
 * checked against its structure before any dataset is read: a hostile file must fail fast with a
 * clear error, not exhaust memory or loop. Keras writes weights uncompressed, in a tree a few
 * groups deep, so the defaults leave real models (keras.applications' largest is ~550 MB) far
 * inside them. Documented in docs/hostile-input.md.
 */
export interface Hdf5Limits {
  /** Largest dataset, in bytes (tfjs holds a tensor in one ArrayBuffer). */
  maxTensorBytes: number;
  /** All datasets together, in bytes. */
  maxTotalBytes: number;
  /**
   * The datasets' declared bytes may exceed the file's own size at most this many times (HDF5
   * compression or a sparse declared shape: a bomb; Keras's own files are close to 1).
   */
  maxExpansionRatio: number;
  /** Groups, datasets and links in the whole file. */
  maxObjects: number;
  /** Group nesting; a hard link from a group to itself or an ancestor would otherwise be endless. */
  maxDepth: number;
}

export const DEFAULT_HDF5_LIMITS: Hdf5Limits = {
  maxTensorBytes: 2 * 1024 ** 3,
  maxTotalBytes: 8 * 1024 ** 3,
  maxExpansionRatio: 100,
  maxObjects: 100_000,
  maxDepth: 64,
};
