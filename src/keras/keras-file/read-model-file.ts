import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { inMemory, type WeightData } from '../../convert/weight-data.js';
import type { LoadedWeight, SourceWeight } from '../../convert/weight-source.js';
import { InputError } from '../../errors.js';
import type { KerasObject } from '../keras-object.js';
import type { Hdf5Content } from './hdf5-file.js';
import type { Hdf5Reader, Hdf5Request, StoredWeight } from './hdf5-tasks.js';
import { DEFAULT_HDF5_TIMEOUT_MS, Hdf5Session } from './hdf5-worker.js';
import { prewarmHdf5Reader } from './hdf5-reader-pool.js';
import { readKerasArchive, type KerasArchive } from './keras-archive.js';
import { fileSource } from './zip/byte-source.js';
import { HDF5_MAGIC, ZIP_TAIL_BYTES, hasHdf5Signature, refuseHdf5InZip, refuseZipInHdf5 } from './polyglot.js';
import { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './zip/archive-limits.js';
import { DEFAULT_HDF5_LIMITS, type Hdf5Limits } from './hdf5-limits.js';
import { refuseUnrecordedSubclassedModel } from '../subclassed-model.js';

/** A Keras model file read into what convertKerasModel takes, its weights' bytes in memory. */
export interface KerasModelFile {
  modelConfig: KerasObject;
  weights: LoadedWeight[];
  /** The file, for messages. */
  source: string;
  /** The Keras version that wrote the file, when it says. */
  kerasVersion?: string;
}

/** A model file whose weights are read from it when asked (WeightData.read), until `close`. */
export interface OpenKerasModelFile extends Omit<KerasModelFile, 'weights'> {
  weights: SourceWeight[];
  /** Ends reading the file; the weights' `read` fails after. Safe to call twice. */
  close(): Promise<void>;
}

export interface ReadModelFileOptions {
  /** Limits on what a .keras zip may declare (docs/hostile-input.md); unset ones keep DEFAULT_ARCHIVE_LIMITS. */
  limits?: Partial<ArchiveLimits>;
  /** How long reading the HDF5 part may take before it is stopped (DEFAULT_HDF5_TIMEOUT_MS). */
  hdf5TimeoutMs?: number;
  /**
   * 'h5wasm': read the HDF5 part with h5wasm only, not first with the TypeScript reader
   * (hdf5-lite/; as KERAS_BRIDGE_HDF5_READER=h5wasm does for every file). Default 'auto'.
   */
  hdf5Reader?: Hdf5Reader;
}

const ZIP_MAGIC = [0x50, 0x4b]; // "PK": every zip starts with a PK record (local file header or, when empty, the end record).
/** HDF5's superblock may follow a user block of 512, 1024, 2048… bytes. */
const HDF5_SIGNATURE_OFFSETS = [0, 512, 1024, 2048, 4096];

/**
 * Reads a Keras 3 `.keras` file or a legacy full-model `.h5` file, told apart by their bytes
 * (zip or HDF5 signature), not their extension, with every weight's bytes in memory. A file that
 * is both is refused (polyglot.ts).
 */
export async function readKerasModelFile(file: string, options: ReadModelFileOptions = {}): Promise<KerasModelFile> {
  const open = await openKerasModelFile(file, options);
  try {
    const bytes = await open.readAll();
    return {
      modelConfig: open.modelConfig,
      weights: open.weights.map((w, i) => ({ ...w, data: inMemory(bytes[i]!) })),
      source: open.source,
      ...(open.kerasVersion ? { kerasVersion: open.kerasVersion } : {}),
    };
  } finally {
    await open.close();
  }
}

/**
 * Opens a model file as readKerasModelFile reads it, but reads no weight's bytes until asked: a
 * converter streams them from the file to its shards. The HDF5 part is read where it lies in the
 * file (a .keras file stores model.weights.h5 uncompressed), never past it.
 */
export async function openKerasModelFile(file: string, options: ReadModelFileOptions = {}): Promise<OpenedModelFile> {
  const key = earlyOpenKey(file, options);
  const early = earlyOpens.get(key);
  if (early) {
    earlyOpens.delete(key);
    return early;
  }
  return openNow(file, options);
}

type OpenedModelFile = OpenKerasModelFile & { readAll(): Promise<Uint8Array[]> };

/**
 * Opens started by openKerasModelFileEarly, each taken (and then closed) by the first
 * openKerasModelFile of the same file with the same limits.
 */
const earlyOpens = new Map<string, Promise<OpenedModelFile>>();

/**
 * Starts opening `file` now, for an openKerasModelFile to come: the CLI calls it before it loads
 * tfjs, so that the zip's records are read and the HDF5 reader has checked and walked the weights
 * (ResNet50's: 0.3 s) by the time the command asks. An error waits for the one who asks; an open
 * nobody takes stays open until the process ends (its reader thread does not keep it alive). The
 * promise returned settles when the open has, and never rejects.
 */
export function openKerasModelFileEarly(file: string, options: ReadModelFileOptions = {}): Promise<void> {
  const key = earlyOpenKey(file, options);
  const pending = earlyOpens.get(key);
  const opening = pending ?? openNow(file, options);
  if (!pending) earlyOpens.set(key, opening);
  // Settles when the open has (its error is for whoever takes it, so nothing rejects here).
  return opening.then(
    () => undefined,
    () => undefined,
  );
}

/** The same file with the same effective limits and timeout: what an early open may stand for. */
function earlyOpenKey(file: string, options: ReadModelFileOptions): string {
  return JSON.stringify([path.resolve(file), { ...DEFAULT_ARCHIVE_LIMITS, ...options.limits }, options.hdf5TimeoutMs ?? DEFAULT_HDF5_TIMEOUT_MS, options.hdf5Reader ?? 'auto']);
}

async function openNow(file: string, options: ReadModelFileOptions): Promise<OpenedModelFile> {
  prewarmHdf5Reader();
  const { request, kerasVersion } = await hdf5Request(file, options);
  const { session, result } = await Hdf5Session.open(request, options.hdf5TimeoutMs);
  const stored = result.weights;
  const weights: SourceWeight[] = stored.map((w) => {
    const { byteLength, ...rest } = w;
    return { ...rest, data: sessionData(session, w, byteLength) };
  });
  const version = kerasVersion ?? result.kerasVersion;
  return {
    modelConfig: result.modelConfig,
    weights,
    source: file,
    ...(version ? { kerasVersion: version } : {}),
    readAll: () => (stored.length === 0 ? Promise.resolve([]) : session.read(stored.map((w) => w.path))),
    close: () => session.close(),
  };
}

function sessionData(session: Hdf5Session, weight: StoredWeight, byteLength: number): WeightData {
  return {
    byteLength,
    read: async () => (await session.read([weight.path]))[0]!,
    release: (bytes) => session.recycle(bytes),
    copyTo: async (ranges) => ({ allFinite: (await session.copy([{ path: weight.path, ranges: [...ranges] }]))[0]! }),
  };
}

/** What the HDF5 reader opens for `file`: a .keras file's stored model.weights.h5, or a whole .h5. */
async function hdf5Request(file: string, options: ReadModelFileOptions): Promise<{ request: Extract<Hdf5Request, { kind: 'keras3-weights' | 'legacy-model' }>; kerasVersion?: string }> {
  const hdf5Limits = hdf5LimitsFrom(options.limits);
  const head = await readBytes(file, 0, HDF5_SIGNATURE_OFFSETS.at(-1)! + HDF5_MAGIC.length);
  if (startsWith(head, 0, ZIP_MAGIC)) {
    // The zip's records and small entries are read where they lie; model.weights.h5 is left in place.
    const zip = openFileSource(file);
    let archive: KerasArchive;
    try {
      archive = readKerasArchive(zip, file, options.limits);
      const storedAt = 'start' in archive.weightsH5 ? archive.weightsH5.start : undefined;
      refuseHdf5InZip(file, zip, archive.endRecordAt, storedAt);
    } finally {
      zip.close();
    }
    // Before its weights: a subclassed model's config does not list the layers they belong to.
    refuseUnrecordedSubclassedModel(archive.modelConfig, file);
    // Stored (as Keras writes it): read in place, its CRC-32 checked by the HDF5 reader before any weight is read. Deflated: its own inflated buffer.
    const content: Hdf5Content = 'start' in archive.weightsH5 ? { path: file, ...archive.weightsH5 } : archive.weightsH5;
    // A layer whose automatic config has no name (layer-names.ts) takes the one its weights are tagged with.
    const request = { kind: 'keras3-weights', content, file, modelConfig: archive.modelConfig, limits: hdf5Limits, reader: options.hdf5Reader ?? 'auto' } as const;
    return { request, ...(archive.kerasVersion ? { kerasVersion: archive.kerasVersion } : {}) };
  }
  const hdf5At = HDF5_SIGNATURE_OFFSETS.find((offset) => hasHdf5Signature(head, offset));
  if (hdf5At !== undefined) {
    const size = await fileSize(file);
    const tailStart = Math.max(0, size - ZIP_TAIL_BYTES);
    refuseZipInHdf5(file, hdf5At, await readBytes(file, tailStart, size - tailStart), tailStart);
    if (size > hdf5Limits.maxTotalBytes) {
      throw new InputError(`${file}: ${size} bytes, more than the ${hdf5Limits.maxTotalBytes}-byte limit on an HDF5 model file (raise with --max-uncompressed-bytes).`);
    }
    return { request: { kind: 'legacy-model', content: { path: file }, file, limits: hdf5Limits, reader: options.hdf5Reader ?? 'auto' } };
  }
  throw new InputError(
    `${file}: neither a .keras file (zip) nor a Keras .h5 file (HDF5). Save the model with model.save('model.keras'), ` +
      `or pass a bundle directory written by 'keras-bridge export'.`,
  );
}

async function readBytes(file: string, position: number, length: number): Promise<Uint8Array> {
  const handle = await open(file, 'r').catch(cannotRead(file));
  try {
    const buffer = new Uint8Array(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function fileSize(file: string): Promise<number> {
  return (await stat(file).catch(cannotRead(file))).size;
}

function cannotRead(file: string): (e: NodeJS.ErrnoException) => never {
  return (e) => {
    throw new InputError(`${file}: cannot read (${e.code ?? e.message}).`);
  };
}

function startsWith(bytes: Uint8Array, offset: number, magic: readonly number[]): boolean {
  return bytes.length >= offset + magic.length && magic.every((b, i) => bytes[offset + i] === b);
}

/**
 * The HDF5 bounds follow the archive limits the user set, so one flag bounds a size however the
 * file holds it: all weights (--max-uncompressed-bytes), one tensor (--max-entry-bytes), the
 * declared-to-stored ratio (--max-compression-ratio).
 */
function hdf5LimitsFrom(limits: Partial<ArchiveLimits> = {}): Hdf5Limits {
  const archive = { ...DEFAULT_ARCHIVE_LIMITS, ...limits };
  return {
    ...DEFAULT_HDF5_LIMITS,
    maxTotalBytes: archive.maxUncompressedBytes,
    maxTensorBytes: archive.maxEntryBytes,
    maxExpansionRatio: archive.maxCompressionRatio,
  };
}

function openFileSource(file: string): ReturnType<typeof fileSource> {
  try {
    return fileSource(file);
  } catch (e) {
    return cannotRead(file)(e as NodeJS.ErrnoException);
  }
}
