import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import h5wasm, { type Dataset, type File as H5File, type Group } from 'h5wasm/node';
import { InputError } from '../../errors.js';
import type { BundleDtype } from '../bundle-manifest.js';

export type { Dataset, Group };

/** A dataset's values as raw little-endian bytes, in the bundle's dtype vocabulary. */
export interface Hdf5Tensor {
  shape: number[];
  dtype: BundleDtype;
  bytes: Uint8Array;
}

let ready: Promise<void> | undefined;

/** h5wasm prints HDF5's error stack to stderr by default; make it throw instead, once. */
function loadH5wasm(): Promise<void> {
  ready ??= h5wasm.ready.then((module) => {
    module.activate_throwing_error_handler();
  });
  return ready;
}

/**
 * Opens an HDF5 file read-only, hands its root group to `read`, and closes it. h5wasm's Node build
 * reads the host file system (Emscripten NODERAWFS), so bytes (model.weights.h5 out of a .keras
 * zip) go through a private temporary file that is removed afterwards.
 */
export async function withHdf5File<T>(
  content: { path: string } | { bytes: Uint8Array },
  file: string,
  read: (root: Group) => T,
): Promise<T> {
  await loadH5wasm();
  const tmpDir = 'bytes' in content ? await mkdtemp(path.join(os.tmpdir(), 'keras-bridge-h5-')) : undefined;
  try {
    const hostPath = tmpDir ? path.join(tmpDir, 'weights.h5') : path.resolve((content as { path: string }).path);
    if (tmpDir) await writeFile(hostPath, (content as { bytes: Uint8Array }).bytes);
    const h5 = openReadOnly(hostPath, file);
    try {
      return read(h5);
    } finally {
      h5.close();
    }
  } finally {
    if (tmpDir) await rm(tmpDir, { recursive: true, force: true });
  }
}

function openReadOnly(hostPath: string, file: string): H5File {
  try {
    return new h5wasm.File(hostPath, 'r');
  } catch (e) {
    throw new InputError(`${file}: not a readable HDF5 file (${hdf5Reason(e)}).`);
  }
}

/** The innermost line of an HDF5 error stack that says what went wrong, e.g. "file signature not found". */
export function hdf5Reason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const lines = text.split('\n').map((l) => l.trim());
  const last = [...lines].reverse().find((l) => /^#\d+:/.test(l));
  return last ? last.replace(/^#\d+:.*? in \S+\(\): /, '') : (lines[0] ?? 'unknown error');
}

export function isGroup(entity: unknown): entity is Group {
  return entity instanceof h5wasm.Group;
}

export function isDataset(entity: unknown): entity is Dataset {
  return entity instanceof h5wasm.Dataset;
}

/** The child group `name` of `group`, or undefined when there is none (or it is not a group). */
export function childGroup(group: Group, name: string): Group | undefined {
  const child = group.keys().includes(name) ? group.get(name) : null;
  return isGroup(child) ? child : undefined;
}

/** True when any dataset lies at or below `group`. */
export function holdsDatasets(group: Group): boolean {
  return group.keys().some((key) => {
    const child = group.get(key);
    return isDataset(child) || (isGroup(child) && holdsDatasets(child));
  });
}

/**
 * A string-list attribute. Keras writes lists of names as variable-length string arrays, an empty
 * list as an empty float64 array, and (Keras 2) lists over HDF5's 64 kB attribute limit in chunks
 * `name0`, `name1`, ….
 */
export function stringListAttribute(group: Group, name: string, where: string): string[] | undefined {
  const attrs = group.attrs;
  if (!(name in attrs)) {
    if (!(`${name}0` in attrs)) return undefined;
    const chunks: string[] = [];
    for (let i = 0; `${name}${i}` in attrs; i++) chunks.push(...stringListAttribute(group, `${name}${i}`, where)!);
    return chunks;
  }
  const value = attrs[name]!.value;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  if (ArrayBuffer.isView(value) && (value as { length: number }).length === 0) return [];
  throw new InputError(`${where}: attribute '${name}' is not a list of strings.`);
}

/** A string attribute (e.g. `model_config`, `keras_version`), or undefined when absent. */
export function stringAttribute(group: Group, name: string, where: string): string | undefined {
  if (!(name in group.attrs)) return undefined;
  const value = group.attrs[name]!.value;
  if (typeof value !== 'string') throw new InputError(`${where}: attribute '${name}' is not a string.`);
  return value;
}

/** Reads a dataset's values. Keras writes float32 weights; the other dtypes a bundle knows pass too. */
export function readTensor(dataset: Dataset, where: string): Hdf5Tensor {
  const meta = dataset.metadata;
  const dtype = tensorDtype(meta);
  if (!dtype) {
    throw new InputError(`${where}: HDF5 type (class ${meta.type}, ${meta.size} bytes${meta.signed ? ', signed' : ''}) is not a weight type keras-bridge reads (float32, float64, int32, int64, bool).`);
  }
  if (!meta.littleEndian && meta.size > 1) {
    throw new InputError(`${where}: big-endian data; Keras writes little-endian weights. Re-save the model with Keras.`);
  }
  const shape = meta.shape ?? [];
  const value = dataset.value;
  const view = ArrayBuffer.isView(value) ? value : shape.length === 0 ? scalarArray(value, dtype) : undefined;
  if (!view) throw new InputError(`${where}: dataset of shape [${shape.join(', ')}] did not read as an array of numbers.`);
  return {
    shape,
    dtype,
    bytes: new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength)),
  };
}

/**
 * h5wasm reads a 0-d dataset (a scalar weight: Attention's `scale`, `add_weight(shape=())`) as a
 * plain number, or a bigint for int64, not as a typed array: put it back into one of its dtype.
 * The number holds the stored value exactly (a float32 widened to a double narrows back to it).
 */
function scalarArray(value: unknown, dtype: BundleDtype): ArrayBufferView | undefined {
  if (dtype === 'int64') return typeof value === 'bigint' || Number.isSafeInteger(value) ? BigInt64Array.of(BigInt(value as bigint | number)) : undefined;
  if (typeof value !== 'number') return undefined;
  const arrays: Partial<Record<BundleDtype, (v: number) => ArrayBufferView>> = {
    float32: (v) => Float32Array.of(v),
    float64: (v) => Float64Array.of(v),
    int32: (v) => Int32Array.of(v),
    bool: (v) => Uint8Array.of(v ? 1 : 0),
  };
  return arrays[dtype]?.(value);
}

const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const H5T_ENUM = 8;

function tensorDtype(meta: Dataset['metadata']): BundleDtype | undefined {
  if (meta.type === H5T_FLOAT) return ({ 4: 'float32', 8: 'float64' } as const)[meta.size as 4 | 8];
  if (meta.type === H5T_INTEGER && meta.signed) return ({ 4: 'int32', 8: 'int64' } as const)[meta.size as 4 | 8];
  // h5py stores numpy bool as a 1-byte enum {FALSE: 0, TRUE: 1}.
  if (meta.type === H5T_ENUM && meta.size === 1) return 'bool';
  return undefined;
}
