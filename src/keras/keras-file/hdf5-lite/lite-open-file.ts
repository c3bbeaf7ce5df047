import { closeSync } from 'node:fs';
import { float32AllFinite } from '../../../convert/finite-check.js';
import type { FileRange } from '../../../convert/weight-data.js';
import { InputError } from '../../../errors.js';
import { copyCheckedRange } from '../checked-range-copy.js';
import { tensorInfo, type DatasetBytes, type Hdf5Content, type OpenHdf5File, type OpenHdf5Options } from '../hdf5-file.js';
import type { Hdf5Limits } from '../hdf5-limits.js';
import { checkEntryRange, checkStoredRange, hostRange, once, type HostRange } from '../host-range.js';
import { RangeWriter } from '../range-writer.js';
import { SmallReadBlocks } from '../small-read-blocks.js';
import { bytesSource, rangeSource, type LiteSource } from './lite-source.js';
import { LiteDataset, liteObject, readLiteTree, type LiteGroup } from './lite-tree.js';

/**
 * An HDF5 file read by the TypeScript reader (lite-tree.ts), or undefined where it cannot read it
 * (the caller opens it with h5wasm). The same contract as openHdf5File's: the structure checked
 * before anything is read, a stored zip entry's CRC-32 before any dataset's values (now, or at the
 * first read with `checkStoredBytesLater`), reads never outside the range. A dataset's values are
 * read straight from the file, where the tree found them, float32 ones checked for NaN and ±Inf on
 * the way (FiniteCheckedReads), as h5wasm's landed reads are.
 */
export async function openLiteHdf5File(content: Hdf5Content, file: string, limits: Hdf5Limits, options: OpenHdf5Options): Promise<OpenHdf5File | undefined> {
  if ('bytes' in content) {
    const root = readTreeOrUndefined(bytesSource(content.bytes), limits);
    return root && liteFile(root, file, { kind: 'bytes', bytes: content.bytes }, () => {}, () => {});
  }
  const range = await hostRange(content, file, limits);
  const entry = content.zipEntry;
  if (entry && !options.checkStoredBytesLater) checkEntryRange(range, entry);
  const blocks = new SmallReadBlocks(range.fd, range.start, range.length);
  const root = readTreeOrUndefined(
    rangeSource(range.length, (buffer, address) => blocks.read(buffer, 0, buffer.length, address)),
    limits,
  );
  if (!root) {
    closeSync(range.fd);
    return undefined;
  }
  const checkStoredBytes = entry && options.checkStoredBytesLater ? once(() => checkStoredRange(range, entry)) : () => {};
  return liteFile(root, file, { kind: 'range', range }, checkStoredBytes, () => closeSync(range.fd));
}

/** The tree, or undefined for anything it does not read (LiteUnsupported, or any other surprise: h5wasm then reads the file). */
function readTreeOrUndefined(source: LiteSource, limits: Hdf5Limits): LiteGroup | undefined {
  try {
    return readLiteTree(source, limits);
  } catch {
    return undefined;
  }
}

type ValuesSource = { kind: 'bytes'; bytes: Uint8Array } | { kind: 'range'; range: HostRange };

/** Where a dataset's bytes go, a piece at a time (`out`: a buffer a read may fill whole). */
interface BytesSink {
  out?: Uint8Array;
  put(piece: Uint8Array, at: number): void;
}

function liteFile(root: LiteGroup, file: string, values: ValuesSource, checkStoredBytes: () => void, release: () => void): OpenHdf5File {
  const dataset = (path: string, where: string): LiteDataset => {
    checkStoredBytes();
    const found = liteObject(root, path);
    if (!(found instanceof LiteDataset)) throw new InputError(`${where}: not a dataset.`);
    return found;
  };
  return {
    read: (read) => read(root),
    checkStoredBytes,
    readDataset(path, where, allocate): DatasetBytes {
      const found = dataset(path, where);
      const float32 = tensorInfo(found, where).dtype === 'float32';
      const length = found.byteLength;
      const out = new Uint8Array(allocate ? allocate(length) : new ArrayBuffer(length), 0, length);
      const allFinite = putValues(found, values, { out, put: (piece, at) => out.set(piece, at) }, float32, where);
      return allocate && float32 ? { bytes: out, allFinite } : { bytes: out };
    },
    copyDataset(path, where, ranges: readonly FileRange[]) {
      const found = dataset(path, where);
      const float32 = tensorInfo(found, where).dtype === 'float32';
      const writer = new RangeWriter(ranges);
      try {
        if (found.byteLength !== writer.length) throw new InputError(`${where}: ${found.byteLength} bytes stored, where the converter expects ${writer.length}.`);
        return { allFinite: putValues(found, values, { put: (piece, at) => writer.put(piece, at) }, float32, where) && float32 };
      } finally {
        writer.close();
      }
    },
    close: release,
  };
}

/** The dataset's values into `sink`; for float32, whether all are finite (true otherwise). */
function putValues(dataset: LiteDataset, values: ValuesSource, sink: BytesSink, float32: boolean, where: string): boolean {
  const { storage } = dataset;
  const length = dataset.byteLength;
  if (length === 0) return true;
  if (storage.kind === 'compact' || values.kind === 'bytes') {
    const bytes = storage.kind === 'compact' ? storage.bytes : values.kind === 'bytes' ? values.bytes.subarray(storage.address, storage.address + length) : new Uint8Array(0);
    // A copy first: the check reads whole float32 words, which the file's bytes may not be aligned to.
    const copy = new Uint8Array(bytes);
    sink.put(copy, 0);
    return !float32 || float32AllFinite(new Float32Array(copy.buffer, 0, copy.length >> 2));
  }
  const { fd, start } = values.range;
  return copyCheckedRange(fd, start + storage.address, length, sink, float32, () => shortRead(where));
}

/** The file ended inside a dataset's values (it shrank since it was opened: the tree checked them inside it). */
function shortRead(where: string): InputError {
  return new InputError(`${where}: the file ends inside the dataset's values (was it changed while being read?).`);
}
