import { InputError } from '../errors.js';
import type { Bundle } from '../keras/bundle.js';
import { BufferPool } from '../keras/keras-file/buffer-pool.js';
import type { BundleDtype } from '../keras/bundle-manifest.js';
import { copyCheckedRange } from '../keras/keras-file/checked-range-copy.js';
import { RangeWriter } from '../keras/keras-file/range-writer.js';
import { inMemory, type FileRange, type InMemoryWeightData, type WeightData } from './weight-data.js';

/** One Keras weight and its raw little-endian bytes, wherever it was read from. */
export interface SourceWeight {
  layer: string;
  /** Position in the Keras layer's `weights` list. */
  index: number;
  name: string;
  path: string;
  shape: number[];
  dtype: BundleDtype;
  /** Its raw little-endian bytes, in memory or read when needed (weight-data.ts). */
  data: WeightData;
  /**
   * Set when the source does not give the weight's place in Keras's `layer.weights` (a .keras
   * file's custom layer holding weights in sub-layers; `index` is then only the file's order): the
   * Keras name path of the object holding it (`block/proj`) and its position among that object's
   * variables. The converter pairs it with the tfjs weight named `<path>/<weight>`.
   */
  owner?: { path: string; position: number };
}

/** A weight whose bytes are in memory. */
export type LoadedWeight = SourceWeight & { data: InMemoryWeightData };

/** What the manifest says of a stored weight, as a SourceWeight has it (all but its bytes). */
function describedWeight(w: Bundle['manifest']['weights'][number]): Omit<SourceWeight, 'data'> {
  return { layer: w.layer, index: w.index, name: w.name, path: w.path, shape: w.shape, dtype: w.dtype };
}

export function weightsFromBundle(bundle: Bundle): LoadedWeight[] {
  return bundle.manifest.weights.map((w) => ({
    ...describedWeight(w),
    data: inMemory(bundle.weightBytes.subarray(w.offset, w.offset + w.byte_length)),
  }));
}

/**
 * A bundle loaded without its weights (loadBundle's `weights: false`): each weight is read from
 * weights.bin when the converter writes it, until `close`.
 */
export async function weightsFromBundleFile(bundle: Bundle): Promise<{ weights: SourceWeight[]; close(): Promise<void> }> {
  const { open } = await import('node:fs/promises');
  const handle = await open(bundle.weightsPath, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new InputError(`${bundle.weightsPath}: cannot read (${e.code ?? e.message}). Is this a complete bundle?`);
  });
  const pool = new BufferPool();
  const read = async (offset: number, length: number, what: string): Promise<Uint8Array> => {
    const bytes = new Uint8Array(pool.take(length), 0, length);
    const { bytesRead } = await handle.read(bytes, 0, length, offset);
    if (bytesRead !== length) throw new InputError(`${bundle.weightsPath}: ${what} ends at byte ${offset + length}, past the end of the file. The file is truncated.`);
    return bytes;
  };
  const weights = bundle.manifest.weights.map((w) => ({
    ...describedWeight(w),
    data: {
      byteLength: w.byte_length,
      read: () => read(w.offset, w.byte_length, `weight '${w.path}'`),
      release: (bytes: Uint8Array) => pool.give([bytes.buffer as ArrayBuffer]),
      // Straight from weights.bin to the shards, checked on the way (no buffer of the weight's own).
      copyTo: (ranges: readonly FileRange[]) => Promise.resolve().then(() => copyFromFile(handle.fd, w, ranges, bundle.weightsPath)),
    },
  }));
  return {
    weights,
    close: async () => {
      pool.clear();
      await handle.close();
    },
  };
}

/** A bundle weight's bytes from weights.bin into `ranges` of the shards; for float32, whether all are finite. */
function copyFromFile(fd: number, w: Bundle['manifest']['weights'][number], ranges: readonly FileRange[], weightsPath: string): { allFinite: boolean } {
  const writer = new RangeWriter(ranges);
  try {
    if (writer.length !== w.byte_length) throw new Error(`weight '${w.path}': ${w.byte_length} bytes, where ${writer.length} are reserved`);
    const float32 = w.dtype === 'float32';
    const truncated = () => new InputError(`${weightsPath}: weight '${w.path}' ends at byte ${w.offset + w.byte_length}, past the end of the file. The file is truncated.`);
    return { allFinite: copyCheckedRange(fd, w.offset, w.byte_length, { put: (piece, at) => writer.put(piece, at) }, float32, truncated) && float32 };
  } finally {
    writer.close();
  }
}

