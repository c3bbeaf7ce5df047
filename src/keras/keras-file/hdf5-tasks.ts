import type { FileRange } from '../../convert/weight-data.js';
import type { SourceWeight } from '../../convert/weight-source.js';
import type { KerasObject } from '../keras-object.js';
import { withLayerNames } from '../layer-names.js';
import { openHdf5File, type Hdf5Content, type OpenHdf5File } from './hdf5-file.js';
import type { Hdf5Limits } from './hdf5-limits.js';
import { BufferPool } from './buffer-pool.js';
import { LiteUnsupported } from './hdf5-lite/lite-unsupported.js';
import { layerNameTags, weightsFromKeras3H5 } from './keras3-weights.js';
import { readLegacyH5Model } from './legacy-h5-model.js';

/** A weight as the HDF5 file declares it: `path` is its dataset's path in the file, read later by `read`. */
export type StoredWeight = Omit<SourceWeight, 'data'> & { byteLength: number };

/** What the HDF5 reader is asked, in order: open one file, read its datasets, close it. Plain data (it runs in a worker). */
export type Hdf5Request =
  | { kind: 'keras3-weights'; content: Hdf5Content; file: string; modelConfig: KerasObject; limits: Hdf5Limits; reader?: Hdf5Reader }
  | { kind: 'legacy-model'; content: Hdf5Content; file: string; limits: Hdf5Limits; reader?: Hdf5Reader }
  | { kind: 'read'; paths: string[] }
  /** Datasets written into ranges of existing files (a converter's shards) by this thread. */
  | { kind: 'copy'; copies: DatasetCopy[] }
  /** Buffers of earlier reads that the reader may fill again: not answered. */
  | { kind: 'recycle'; buffers: ArrayBuffer[] }
  | { kind: 'close' };

export type Hdf5OpenResult = { modelConfig: KerasObject; weights: StoredWeight[]; kerasVersion?: string };

/** A read's bytes, and for each whether the reader found it float32 with every value finite. */
export type Hdf5ReadReply = { bytes: Uint8Array[]; allFinite: boolean[] };

/** A dataset to write into ranges of existing files (hdf5-file.ts copyDataset). */
export type DatasetCopy = { path: string; ranges: FileRange[] };

/** For each copy, whether the reader found it float32 with every value finite. */
export type Hdf5CopyReply = { allFinite: boolean[] };

export type Hdf5Reply = Hdf5OpenResult | Hdf5ReadReply | Hdf5CopyReply | { closed: true } | { recycled: true };

/** 'auto': the TypeScript reader (hdf5-lite/) where it can, h5wasm for the rest; 'h5wasm': h5wasm only. */
export type Hdf5Reader = 'auto' | 'h5wasm';

/** Set to `h5wasm`: every HDF5 file is read with h5wasm, none with the TypeScript reader (hdf5-lite/). */
export const HDF5_READER_VARIABLE = 'KERAS_BRIDGE_HDF5_READER';

/**
 * The file the reader has open. One at a time per reader (one per worker thread): opening
 * another closes it.
 */
let current: { h5: OpenHdf5File; where: string } | undefined;

/** Buffers the reader's caller handed back (recycle), filled again by the next reads. */
const pool = new BufferPool();

/**
 * model.weights.h5 of a .keras file (its layers named from the weights' tags where the config has
 * no name, layer-names.ts), or a whole legacy .h5 model: the model and its weights' places, no
 * values; then the values of the datasets asked for, each read when asked.
 */
export async function runHdf5Request(request: Hdf5Request): Promise<Hdf5Reply> {
  switch (request.kind) {
    case 'keras3-weights':
    case 'legacy-model':
      return openFile(request);
    case 'read': {
      if (!current) throw new Error('the HDF5 reader has no file open');
      const { h5, where } = current;
      const read = request.paths.map((path) => h5.readDataset(path, `${where}: '${path}'`, (n) => pool.take(n)));
      return { bytes: read.map((r) => r.bytes), allFinite: read.map((r) => r.allFinite === true) };
    }
    case 'copy': {
      if (!current) throw new Error('the HDF5 reader has no file open');
      const { h5, where } = current;
      const allFinite = request.copies.map(({ path, ranges }) => h5.copyDataset(path, `${where}: '${path}'`, ranges).allFinite);
      return { allFinite };
    }
    case 'recycle':
      pool.give(request.buffers);
      return { recycled: true };
    case 'close':
      closeCurrent();
      return { closed: true };
  }
}

async function openFile(request: Extract<Hdf5Request, { kind: 'keras3-weights' | 'legacy-model' }>): Promise<Hdf5OpenResult> {
  closeCurrent();
  const where = request.kind === 'legacy-model' ? request.file : `${request.file}: model.weights.h5`;
  // A stored entry's CRC-32 is checked once this open is answered, while the caller plans (OpenHdf5Options).
  // Read by the TypeScript reader where it can be (what h5py writes by default); h5wasm reads the rest.
  const lite = request.reader !== 'h5wasm' && process.env[HDF5_READER_VARIABLE] !== 'h5wasm';
  let opened = await openHdf5File(request.content, where, request.limits, { checkStoredBytesLater: true, lite });
  let result: Hdf5OpenResult;
  try {
    result = walkOrClose(request, opened);
  } catch (e) {
    if (!(e instanceof LiteUnsupported)) throw e;
    opened = await openHdf5File(request.content, where, request.limits, { checkStoredBytesLater: true });
    result = walkOrClose(request, opened);
  }
  current = { h5: opened, where };
  setImmediate(() => {
    if (current?.h5 !== opened) return; // closed meanwhile
    try {
      opened.checkStoredBytes();
    } catch {
      // kept by the open file: its reads report it
    }
  });
  return result;
}

/** The walk's result; where it fails, the file closed (and a damaged entry reported as such, whatever HDF5 made of it). */
function walkOrClose(request: Extract<Hdf5Request, { kind: 'keras3-weights' | 'legacy-model' }>, h5: OpenHdf5File): Hdf5OpenResult {
  try {
    return walk(request, h5);
  } catch (e) {
    try {
      // LiteUnsupported: the file is read again by h5wasm, which reports damage its own way.
      if (!(e instanceof LiteUnsupported)) h5.checkStoredBytes();
    } finally {
      h5.close();
    }
    throw e;
  }
}

function walk(request: Extract<Hdf5Request, { kind: 'keras3-weights' | 'legacy-model' }>, h5: OpenHdf5File): Hdf5OpenResult {
  if (request.kind === 'legacy-model') return h5.read((root) => readLegacyH5Model(root, request.file));
  return h5.read((root) => {
    const named = withLayerNames(request.modelConfig, layerNameTags(root, request.modelConfig, request.file));
    return { modelConfig: named, weights: weightsFromKeras3H5(root, named, request.file) };
  });
}

function closeCurrent(): void {
  const open = current;
  current = undefined;
  pool.clear();
  open?.h5.close();
}
