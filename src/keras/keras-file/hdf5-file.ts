import { closeSync, openSync, readSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Dataset as H5Dataset, File as H5File, Group as H5Group } from 'h5wasm';
import { InputError } from '../../errors.js';
import { float32BitsAllFinite } from '../../convert/finite-check.js';
import type { BundleDtype } from '../bundle-manifest.js';
import { CHECKED_READ_BYTES } from './finite-checked-reads.js';
import { copyCheckedRangeUpTo } from './checked-range-copy.js';
import { RangeWriter } from './range-writer.js';
import { SMALL_READ_BYTES, SmallReadBlocks } from './small-read-blocks.js';
import type { FileRange } from '../../convert/weight-data.js';
import { checkHdf5Structure } from './hdf5-structure.js';
import { DEFAULT_HDF5_LIMITS, type Hdf5Limits } from './hdf5-limits.js';
import { checkEntryRange, checkStoredRange, hostRange, once, type HostRange } from './host-range.js';
import type { StoredZipEntry } from './zip/zip-archive.js';
import { raiseWasmTieringBudget, restoreWasmTieringBudget } from './h5wasm-tiering.js';
import { openLiteHdf5File } from './hdf5-lite/lite-open-file.js';
import { LiteDataset, LiteGroup, liteObject } from './hdf5-lite/lite-tree.js';

/** A group or dataset of an open file: h5wasm's, or the TypeScript reader's (hdf5-lite/). */
export type Group = H5Group | LiteGroup;
export type Dataset = H5Dataset | LiteDataset;
export type { H5Dataset, H5Group };

/** A dataset's shape and dtype, in the bundle's dtype vocabulary. */
export interface Hdf5TensorInfo {
  shape: number[];
  dtype: BundleDtype;
}

/** A dataset's values as raw little-endian bytes. */
export interface Hdf5Tensor extends Hdf5TensorInfo {
  bytes: Uint8Array;
}

/**
 * What an HDF5 file is read from: bytes in memory, or a byte range of a host file (a whole .h5, or
 * the model.weights.h5 a .keras zip stores uncompressed), read on demand and never past the range.
 * `zipEntry` where the range is a stored zip entry: its recorded CRC-32 is checked over the range
 * before HDF5 reads any of it (or before any dataset's bytes are read: OpenHdf5Options).
 */
export type Hdf5Content = { bytes: Uint8Array } | { path: string; start?: number; length?: number; zipEntry?: StoredZipEntry };

/** A dataset's raw bytes; `allFinite` is set for float32 data read into a caller's buffer. */
export interface DatasetBytes {
  bytes: Uint8Array;
  allFinite?: boolean;
}

/** An HDF5 file opened by openHdf5File, checked and read-only, until `close`. */
export interface OpenHdf5File {
  /** Runs `read` on the root group, with HDF5's errors as InputErrors naming the file. */
  read<T>(read: (root: Group) => T): T;
  /**
   * Reads a dataset's bytes by its path in the file, with HDF5's errors as InputErrors naming
   * `where`; into a buffer `allocate` gives (of at least the bytes asked for) when given, and
   * then, for float32 data, says whether every value is finite (checked as the bytes are copied).
   */
  readDataset(datasetPath: string, where: string, allocate?: (bytes: number) => ArrayBuffer): DatasetBytes;
  /**
   * Writes a dataset's raw bytes into `ranges` of existing files (RangeWriter), as readDataset with
   * a buffer reads them but without handing them over: a converter's shards, written by this
   * thread. `allFinite` as readDataset's (false for other dtypes). The ranges must hold exactly the
   * dataset's bytes.
   */
  copyDataset(datasetPath: string, where: string, ranges: readonly FileRange[]): { allFinite: boolean };
  /**
   * Checks a stored zip entry's recorded CRC-32 over the range, where the open left it for later
   * (OpenHdf5Options.checkStoredBytesLater), once: throws its error, again at each call, where the
   * bytes disagree. readDataset calls it first. Nothing where there is no entry or it was checked at open.
   */
  checkStoredBytes(): void;
  close(): void;
}

export interface OpenHdf5Options {
  /**
   * Read the file with the TypeScript reader where it can (hdf5-lite/: what h5py writes by default,
   * which is what Keras writes), without loading h5wasm: ResNet50's weights file is read and
   * checked in 16 ms instead of h5wasm's 200 ms to load and 180 ms to check. A file it does not
   * read is opened with h5wasm as without this option; a walk of the tree it gives that meets
   * something it does not read (an attribute of another type than strings and numbers) throws
   * LiteUnsupported, and the caller opens the file again without it (hdf5-tasks.ts). Default false.
   */
  lite?: boolean;
  /**
   * A stored zip entry's CRC-32 is checked when its datasets are first read (or by an earlier
   * checkStoredBytes), not before HDF5 opens it: the HDF5 reader's thread opens the file while its
   * caller is still loading, and checks the 98 MB of ResNet50's weights after answering, while the
   * caller plans. HDF5 parses a damaged entry's structure first, as it parses any file's: bounded
   * (checkHdf5Structure, the reader's timeout), and any error it meets is reported as the CRC-32's
   * where the bytes disagree with it. Default false: checked before HDF5 reads any of the range.
   */
  checkStoredBytesLater?: boolean;
}

/** Where files are put in h5wasm's private in-memory file system, one at a time. */
const SANDBOX_DIR = '/keras-bridge-input';
/** The working directory HDF5 resolves relative external-storage names against: always empty. */
const EMPTY_DIR = '/keras-bridge-empty';

type H5Library = typeof import('h5wasm').default;
type H5Module = Awaited<H5Library['ready']>;
/** h5wasm, once loadH5wasm has imported it (a file the TypeScript reader reads never needs it). */
let h5wasm: H5Library | undefined;
let ready: Promise<H5Module> | undefined;
let openCount = 0;
let trapped = false;

/** True once h5wasm trapped (read out of bounds): its memory may be corrupt, so its thread is not reused. */
export function h5wasmTrapped(): boolean {
  return trapped;
}

/**
 * h5wasm's browser build keeps its files in an in-memory file system (Emscripten MEMFS), unlike its
 * Node build, which reaches the host's: HDF5 external storage, external links and virtual datasets
 * name other files, and here no other file exists. The emulated devices are removed too (/dev/tty
 * would read the terminal), and HDF5's error stack is made to throw instead of printing.
 */
export function loadH5wasm(): Promise<H5Module> {
  // h5wasm compiles and instantiates its module as it is imported: with the reader's tier-up
  // budget (h5wasm-tiering.ts), restored once it is ready.
  if (ready) return ready;
  raiseWasmTieringBudget();
  ready = import('h5wasm')
    .then(({ default: library }) => ((h5wasm = library), library.ready))
    .finally(restoreWasmTieringBudget)
    .then((module) => {
    module.activate_throwing_error_handler();
    const fs = module.FS as unknown as EmscriptenFs;
    for (const device of fs.readdir('/dev')) {
      if (device !== '.' && device !== '..') tryRemove(fs, `/dev/${device}`);
    }
    fs.mkdir(SANDBOX_DIR);
    fs.mkdir(EMPTY_DIR);
    fs.chdir(EMPTY_DIR);
    return module;
  });
  return ready;
}

interface EmscriptenFs {
  readdir(path: string): string[];
  mkdir(path: string): void;
  chdir(path: string): void;
  unlink(path: string): void;
  rmdir(path: string): void;
  open(path: string, flags: string): unknown;
  write(stream: unknown, buffer: Uint8Array, offset: number, length: number, position: number, canOwn: boolean): number;
  close(stream: unknown): void;
  isDir(mode: number): boolean;
  stat(path: string): { mode: number };
  createFile(parent: string, name: string, properties: object, canRead: boolean, canWrite: boolean): unknown;
}

function tryRemove(fs: EmscriptenFs, path: string): void {
  try {
    if (fs.isDir(fs.stat(path).mode)) fs.rmdir(path);
    else fs.unlink(path);
  } catch {
    // A device that will not go (a non-empty /dev/shm) is harmless to HDF5: nothing names it.
  }
}

/**
 * Opens an HDF5 file read-only, checks its structure (hdf5-structure.ts: no link, external storage
 * or virtual dataset, declared sizes within `limits`), hands its root group to `read`, and closes
 * it. HDF5 cannot reach the host's files (loadH5wasm).
 */
export async function withHdf5File<T>(content: Hdf5Content, file: string, read: (root: H5Group) => T, limits: Hdf5Limits = DEFAULT_HDF5_LIMITS): Promise<T> {
  const h5 = await openHdf5File(content, file, limits);
  try {
    return h5.read((root) => read(root as H5Group));
  } finally {
    h5.close();
  }
}

/**
 * Opens an HDF5 file as withHdf5File does, and keeps it open: a converter reads its datasets one
 * at a time as it writes them. Bytes are put in h5wasm's in-memory file system as they are (no
 * copy); a host file's range is given to HDF5 as a file of its own whose reads go to the host file
 * within the range (rangeFile), so that only the parts HDF5 reads are ever in memory.
 */
export async function openHdf5File(content: Hdf5Content, file: string, limits: Hdf5Limits = DEFAULT_HDF5_LIMITS, options: OpenHdf5Options = {}): Promise<OpenHdf5File> {
  if (options.lite) {
    const lite = await openLiteHdf5File(content, file, limits, options);
    if (lite) return lite;
  }
  const module = await loadH5wasm();
  keysByGroup.clear();
  objectsByPath.clear();
  const fs = module.FS as unknown as EmscriptenFs;
  const sandboxPath = `${SANDBOX_DIR}/${++openCount}.h5`;
  // The dataset read readInto waits for, which a host range's file puts in the caller's buffer.
  const landing: Landing = {};
  let size: number;
  let release = () => {};
  let storedCheck: (() => void) | undefined;
  if ('bytes' in content) {
    size = content.bytes.length;
    const stream = fs.open(sandboxPath, 'w');
    try {
      // canOwn: the in-memory file takes the bytes as they are, without a copy.
      fs.write(stream, content.bytes, 0, content.bytes.length, 0, true);
    } finally {
      fs.close(stream);
    }
  } else {
    const range = await hostRange(content, file, limits);
    const entry = content.zipEntry;
    if (entry && !options.checkStoredBytesLater) checkEntryRange(range, entry);
    size = range.length;
    release = rangeFile(fs, sandboxPath, range, landing);
    if (entry && options.checkStoredBytesLater) storedCheck = once(() => checkStoredRange(range, entry));
  }
  let h5: H5File | undefined;
  try {
    h5 = asInputError(file, () => {
      const opened = openReadOnly(sandboxPath, file);
      try {
        checkHdf5Structure(opened, file, size, limits);
      } catch (e) {
        opened.close();
        throw e;
      }
      return opened;
    });
  } catch (e) {
    // A damaged entry: its CRC-32 says so more plainly than what HDF5 made of its bytes.
    storedCheck?.();
    throw e;
  } finally {
    if (!h5) {
      fs.unlink(sandboxPath);
      release();
    }
  }
  const opened = h5;
  const checkStoredBytes = storedCheck ?? (() => {});
  return {
    read: (read) => asInputError(file, () => read(opened)),
    checkStoredBytes,
    readDataset: (datasetPath, where, allocate) =>
      asInputError(file, () => {
        checkStoredBytes();
        const dataset = childObject(opened, datasetPath);
        if (!isH5Dataset(dataset)) throw new InputError(`${where}: not a dataset.`);
        return allocate ? readInto(module, dataset, where, allocate, landing) : { bytes: readTensor(dataset, where).bytes };
      }),
    copyDataset: (datasetPath, where, ranges) =>
      asInputError(file, () => {
        checkStoredBytes();
        const dataset = childObject(opened, datasetPath);
        if (!isH5Dataset(dataset)) throw new InputError(`${where}: not a dataset.`);
        const writer = new RangeWriter(ranges);
        try {
          return copyInto(module, dataset, where, writer, landing);
        } finally {
          writer.close();
        }
      }),
    close() {
      try {
        asInputError(file, () => opened.close());
      } finally {
        fs.unlink(sandboxPath);
        release();
      }
    },
  };
}

/** How many dataset reads landed in the caller's buffer (tests check the path a read took). */
export const landedReads = { count: 0 };

/**
 * A dataset's raw bytes in a buffer of the caller's (a converter recycles a few instead of the
 * system zeroing a new one for every tensor). The types tensorInfo accepts are little-endian
 * numbers of 1, 4 or 8 bytes, so the raw bytes are the values. float32 values are checked for NaN
 * and ±Inf a chunk at a time, while in cache: the converter's check on the main thread read every
 * value again, from memory, and was the slowest step of converting 1 GB (0.59 s of its 2.6 s).
 * Where HDF5 reads the whole dataset from a host file in one piece (contiguous, unfiltered, larger
 * than its sieve buffer), the read lands in the caller's buffer (Landing); else the bytes are
 * copied out of HDF5's memory, where HDF5 read them.
 */
function readInto(module: H5Module, dataset: H5Dataset, where: string, allocate: (bytes: number) => ArrayBuffer, landing: Landing): DatasetBytes {
  const { length, float32 } = datasetBytes(dataset, where);
  const out = new Uint8Array(allocate(length), 0, length);
  const { allFinite } = readThrough(module, dataset, where, { length, float32, out, put: (piece, at) => out.set(piece, at) }, landing);
  return float32 ? { bytes: out, allFinite } : { bytes: out };
}

/** copyDataset: the dataset's bytes put into the writer's ranges, a piece at a time. */
function copyInto(module: H5Module, dataset: H5Dataset, where: string, writer: RangeWriter, landing: Landing): { allFinite: boolean } {
  const { length, float32 } = datasetBytes(dataset, where);
  if (length !== writer.length) throw new InputError(`${where}: ${length} bytes stored, where the converter expects ${writer.length}.`);
  const { allFinite } = readThrough(module, dataset, where, { length, float32, put: (piece, at) => writer.put(piece, at) }, landing);
  return { allFinite: float32 && allFinite };
}

function datasetBytes(dataset: H5Dataset, where: string): { length: number; float32: boolean } {
  const float32 = tensorInfo(dataset, where).dtype === 'float32';
  const meta = dataset.metadata;
  return { length: meta.size * meta.total_size, float32 };
}

/** Where a dataset's bytes go: `put` each piece (a buffer's `out` may take a landed read whole). */
interface BytesSink {
  length: number;
  float32: boolean;
  out?: Uint8Array;
  put(piece: Uint8Array, at: number): void;
}

/** HDF5's read of the dataset, its bytes handed to `sink` (landed where they can be: Landing). */
function readThrough(module: H5Module, dataset: H5Dataset, where: string, sink: BytesSink, landing: Landing): { allFinite: boolean } {
  if (sink.length === 0) return { allFinite: true };
  // Unsigned: a block past 2 GB comes back from wasm as a negative int32.
  const pointer = module._malloc(sink.length) >>> 0;
  if (pointer === 0) throw new InputError(`${where}: ${sink.length} bytes do not fit the HDF5 reader's memory.`);
  const target: LandingTarget = { heapOffset: pointer, sink, landed: false, allFinite: true };
  landing.target = target;
  try {
    try {
      module.get_dataset_data(dataset.file_id, dataset.path, null, null, null, BigInt(pointer));
    } catch (e) {
      throw datasetReadError(e, where);
    } finally {
      landing.target = undefined;
    }
    if (!target.landed) putFromHeap(module.HEAPU8, pointer, target);
  } finally {
    module._free(pointer);
  }
  return { allFinite: target.allFinite };
}

/** The dataset's bytes from HDF5's memory at `pointer` to the target's sink, each chunk checked as it goes. */
function putFromHeap(heap: Uint8Array, pointer: number, target: LandingTarget): void {
  const { sink } = target;
  // malloc's blocks are 8-byte aligned: the values' bits are whole words of the heap.
  const words = new Int32Array(heap.buffer);
  for (let at = 0; at < sink.length; at += CHECKED_READ_BYTES) {
    const end = Math.min(sink.length, at + CHECKED_READ_BYTES);
    sink.put(heap.subarray(pointer + at, pointer + end), at);
    if (sink.float32 && target.allFinite) target.allFinite = float32BitsAllFinite(words, (pointer + at) >>> 2, (pointer + end) >>> 2);
  }
}

/**
 * The read readThrough waits for: HDF5's read of the whole dataset into its memory at `heapOffset`.
 * A host range's file (rangeFile) reads exactly that place and size into the sink instead, and
 * says so in `landed`: HDF5 does nothing more with the bytes of a dataset read without conversion, and
 * the copy out of its memory is saved (ResNet50's 98 MB: 25 ms of the reader's thread, which the
 * converter's writes wait on).
 */
interface LandingTarget {
  heapOffset: number;
  sink: BytesSink;
  landed: boolean;
  allFinite: boolean;
}

interface Landing {
  target?: LandingTarget;
}

/**
 * The host range's bytes at `position` handed to the target's sink, float32 ones checked for NaN
 * and ±Inf on the way (copyCheckedRangeUpTo); the count read (short where the file ended early,
 * which HDF5 reports as an error).
 */
function landDirectly(range: HostRange, target: LandingTarget, position: number): number {
  const { sink } = target;
  target.landed = true;
  landedReads.count++;
  const { copied, allFinite } = copyCheckedRangeUpTo(range.fd, range.start + position, sink.length, sink, sink.float32);
  target.allFinite &&= allFinite;
  return copied;
}

/**
 * HDF5 reads lazily: damage past the superblock surfaces on first access (or on close), as an
 * HDF5 error or as a trap of its WebAssembly build reading out of bounds.
 */
function asInputError<T>(file: string, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) trapped = true;
    throw isHdf5LibraryError(e) ? new InputError(`${file}: damaged HDF5 file (${hdf5Reason(e)}).`) : e;
  }
}

interface FileNode {
  usedBytes: number;
  stream_ops: Record<string, unknown>;
}

/**
 * A read-only file at `sandboxPath` whose bytes are the host file's `range`: HDF5's reads (pread)
 * become reads of the host file at the same offset past `range.start`, and stop at its end, so
 * nothing outside the range is ever read. Small reads (HDF5's metadata) come from blocks of the range
 * read whole (SmallReadBlocks). Returns what closes the host file.
 */
function rangeFile(fs: EmscriptenFs, sandboxPath: string, range: HostRange, landing: Landing): () => void {
  const slash = sandboxPath.lastIndexOf('/');
  const node = fs.createFile(sandboxPath.slice(0, slash), sandboxPath.slice(slash + 1), {}, true, false) as FileNode;
  Object.defineProperty(node, 'usedBytes', { get: () => range.length });
  const smallReads = new SmallReadBlocks(range.fd, range.start, range.length);
  node.stream_ops = {
    ...node.stream_ops,
    read(_stream: unknown, buffer: Uint8Array, offset: number, length: number, position: number): number {
      if (position >= range.length) return 0;
      const wanted = Math.min(length, range.length - position);
      const target = landing.target;
      if (target && !target.landed && offset === target.heapOffset && length === target.sink.length && wanted === length) return landDirectly(range, target, position);
      if (wanted <= SMALL_READ_BYTES) return smallReads.read(buffer, offset, wanted, position);
      let done = 0;
      while (done < wanted) {
        const got = readSync(range.fd, buffer, offset + done, wanted - done, range.start + position + done);
        if (got === 0) break; // the host file shrank under us: HDF5 sees a short read and says so
        done += got;
      }
      return done;
    },
    write(): number {
      throw new Error('keras-bridge opens model files read-only');
    },
  };
  return () => closeSync(range.fd);
}

function openReadOnly(hostPath: string, file: string): H5File {
  try {
    return new h5wasm!.File(hostPath, 'r');
  } catch (e) {
    throw new InputError(`${file}: not a readable HDF5 file (${hdf5Reason(e)}).`);
  }
}

/** An error HDF5 itself raised (h5wasm's throwing error handler puts its error stack in the message), or a trap in it. */
function isHdf5LibraryError(e: unknown): boolean {
  return e instanceof WebAssembly.RuntimeError || (e instanceof Error && !(e instanceof InputError) && e.message.startsWith('HDF5-DIAG'));
}

/** The innermost line of an HDF5 error stack that says what went wrong, e.g. "file signature not found". */
export function hdf5Reason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const lines = text.split('\n').map((l) => l.trim());
  const last = [...lines].reverse().find((l) => /^#\d+:/.test(l));
  return last ? last.replace(/^#\d+:.*? in \S+\(\): /, '') : (lines[0] ?? 'unknown error');
}

/**
 * The open file's groups' member names, listed once each: the weight walks ask for the same
 * group's members many times, and each listing crosses into WebAssembly with every name. The file
 * is read-only and one is open at a time, so the list is cleared only when another is opened.
 */
const keysByGroup = new Map<string, string[]>();

/**
 * The open file's groups and datasets, opened once each by path. h5wasm resolves every call's path
 * from the root (get_type 40 µs, a dataset's metadata 50 µs on ResNet50's file), and the structure
 * check, the weight walks and the reads ask for the same objects several times; a Dataset keeps
 * its metadata once read. Seeded by checkHdf5Structure, cleared with keysByGroup.
 */
const objectsByPath = new Map<string, unknown>();

/** What `group.get(name)` gives (a Group, a Dataset, or null), from the open file's objects. */
export function childObject(group: Group, name: string): unknown {
  if (group instanceof LiteGroup) return liteObject(group, name) ?? null;
  const path = name.startsWith('/') ? name : joinHdf5Path(group.path, name);
  const key = `${group.file_id}:${path}`;
  if (!objectsByPath.has(key)) objectsByPath.set(key, group.get(path));
  return objectsByPath.get(key);
}

/** The path of `name` inside the group at `parent`. */
export function joinHdf5Path(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** The object at `path`, opened without asking HDF5 its kind again (checkHdf5Structure has). */
export function openedObject(group: H5Group, path: string, kind: 'group' | 'dataset'): H5Group | H5Dataset {
  const object = kind === 'group' ? new h5wasm!.Group(group.file_id, path) : new h5wasm!.Dataset(group.file_id, path);
  objectsByPath.set(`${group.file_id}:${path}`, object);
  return object;
}

export function groupKeys(group: Group): string[] {
  if (group instanceof LiteGroup) return group.keys();
  const key = `${group.file_id}:${group.path}`;
  let keys = keysByGroup.get(key);
  if (!keys) keysByGroup.set(key, (keys = group.keys()));
  return keys;
}

export function isGroup(entity: unknown): entity is Group {
  return entity instanceof LiteGroup || (h5wasm !== undefined && entity instanceof h5wasm.Group);
}

export function isDataset(entity: unknown): entity is Dataset {
  return entity instanceof LiteDataset || isH5Dataset(entity);
}

/** An h5wasm Dataset (of a file opened without the TypeScript reader). */
export function isH5Dataset(entity: unknown): entity is H5Dataset {
  return h5wasm !== undefined && entity instanceof h5wasm.Dataset;
}

/** The child group `name` of `group`, or undefined when there is none (or it is not a group). */
export function childGroup(group: Group, name: string): Group | undefined {
  const child = groupKeys(group).includes(name) ? childObject(group, name) : null;
  return isGroup(child) ? child : undefined;
}

/** True when any dataset lies at or below `group` (checkHdf5Structure has bounded the tree). */
export function holdsDatasets(group: Group): boolean {
  return groupKeys(group).some((key) => {
    const child = childObject(group, key);
    return isDataset(child) || (isGroup(child) && holdsDatasets(child));
  });
}

/** Each group's attribute names and the values read, by group object (childObject hands out one object per path). */
const attributesByGroup = new WeakMap<H5Group, { names: Set<string>; values: Map<string, unknown> }>();

/**
 * An attribute's value, or undefined when the group has none of that name: its names listed once
 * per group and each value read once. h5wasm's `group.attrs` lists the names and opens each
 * attribute it is asked for (its metadata, then again to read it), every call resolving the
 * group's path from the root; ResNet50's .keras asked for each layer's `vars` tag that way twice.
 */
export function attributeValue(group: Group, name: string): unknown {
  if (group instanceof LiteGroup) return group.attributes.value(name);
  const known = attributesOf(group);
  if (!known.names.has(name)) return undefined;
  if (!known.values.has(name)) known.values.set(name, group.get_attribute(name, false));
  return known.values.get(name);
}

/** Whether the group has an attribute of that name (attributeValue's list). */
function hasAttribute(group: Group, name: string): boolean {
  if (group instanceof LiteGroup) return group.attributes.names().includes(name);
  return attributesOf(group).names.has(name);
}

function attributesOf(group: H5Group): { names: Set<string>; values: Map<string, unknown> } {
  let known = attributesByGroup.get(group);
  // Listing the names only (the property getters open an attribute when one is read).
  if (!known) attributesByGroup.set(group, (known = { names: new Set(Object.keys(group.attrs)), values: new Map() }));
  return known;
}

/**
 * A string-list attribute. Keras writes lists of names as variable-length string arrays, an empty
 * list as an empty float64 array, and (Keras 2) lists over HDF5's 64 kB attribute limit in chunks
 * `name0`, `name1`, ….
 */
export function stringListAttribute(group: Group, name: string, where: string): string[] | undefined {
  if (!hasAttribute(group, name)) {
    if (!hasAttribute(group, `${name}0`)) return undefined;
    const chunks: string[] = [];
    for (let i = 0; hasAttribute(group, `${name}${i}`); i++) chunks.push(...stringListAttribute(group, `${name}${i}`, where)!);
    return chunks;
  }
  const value = attributeValue(group, name);
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  if (ArrayBuffer.isView(value) && (value as unknown as { length: number }).length === 0) return [];
  throw new InputError(`${where}: attribute '${name}' is not a list of strings.`);
}

/** A string attribute (e.g. `model_config`, `keras_version`), or undefined when absent. */
export function stringAttribute(group: Group, name: string, where: string): string | undefined {
  const value = attributeValue(group, name);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InputError(`${where}: attribute '${name}' is not a string.`);
  return value;
}

/** A dataset's shape and dtype. Keras writes float32 weights; the other dtypes a bundle knows pass too. */
export function tensorInfo(dataset: Dataset, where: string): Hdf5TensorInfo {
  const meta = dataset.metadata;
  const dtype = tensorDtype(meta);
  if (!dtype) {
    throw new InputError(`${where}: HDF5 type (class ${meta.type}, ${meta.size} bytes${meta.signed ? ', signed' : ''}) is not a weight type keras-bridge reads (float32, float64, int32, int64, bool).`);
  }
  if (!meta.littleEndian && meta.size > 1) {
    throw new InputError(`${where}: big-endian data; Keras writes little-endian weights. Re-save the model with Keras.`);
  }
  return { shape: meta.shape ?? [], dtype };
}

/** Reads a dataset's values (tensorInfo's checks first). */
export function readTensor(dataset: H5Dataset, where: string): Hdf5Tensor {
  const { shape, dtype } = tensorInfo(dataset, where);
  const value = datasetValue(dataset, where);
  const view = ArrayBuffer.isView(value) ? value : shape.length === 0 ? scalarArray(value, dtype) : undefined;
  if (!view) throw new InputError(`${where}: dataset of shape [${shape.join(', ')}] did not read as an array of numbers.`);
  return {
    shape,
    dtype,
    // h5wasm returns a fresh copy of the data: a view of all of it is taken as it is.
    bytes:
      view.byteOffset === 0 && view.byteLength === view.buffer.byteLength
        ? new Uint8Array(view.buffer)
        : new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength)),
  };
}

/**
 * The dataset's values. External raw storage (data kept in another file) cannot be seen before a
 * read; in the sandbox the other file does not exist, so the read fails, and says why.
 */
function datasetValue(dataset: H5Dataset, where: string): unknown {
  try {
    return dataset.value;
  } catch (e) {
    throw datasetReadError(e, where);
  }
}

function datasetReadError(e: unknown, where: string): InputError {
  const text = e instanceof Error ? e.message : String(e);
  if (/efl|external/i.test(text)) {
    return new InputError(
      `${where}: the dataset's data is stored in an external file (HDF5 external storage), not in the model file; ` +
        `keras-bridge reads nothing outside the model file. Re-save the model with Keras.`,
    );
  }
  return new InputError(`${where}: the dataset cannot be read (${hdf5Reason(e)}).`);
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

function tensorDtype(meta: Pick<Dataset['metadata'], 'type' | 'size' | 'signed'>): BundleDtype | undefined {
  if (meta.type === H5T_FLOAT) return ({ 4: 'float32', 8: 'float64' } as const)[meta.size as 4 | 8];
  if (meta.type === H5T_INTEGER && meta.signed) return ({ 4: 'int32', 8: 'int64' } as const)[meta.size as 4 | 8];
  // h5py stores numpy bool as a 1-byte enum {FALSE: 0, TRUE: 1}.
  if (meta.type === H5T_ENUM && meta.size === 1) return 'bool';
  return undefined;
}
