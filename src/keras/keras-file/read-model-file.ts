import { open, readFile, stat } from 'node:fs/promises';
import type { SourceWeight } from '../../convert/weight-source.js';
import { InputError } from '../../errors.js';
import type { KerasObject } from '../keras-object.js';
import { runHdf5TaskInWorker } from './hdf5-worker.js';
import { readKerasArchive } from './keras-archive.js';
import { HDF5_MAGIC, ZIP_TAIL_BYTES, hasHdf5Signature, refuseHdf5InZip, refuseZipInHdf5 } from './polyglot.js';
import { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './zip/archive-limits.js';
import { DEFAULT_HDF5_LIMITS, type Hdf5Limits } from './hdf5-limits.js';
import { findEndRecord } from './zip/end-record.js';
import { refuseUnrecordedSubclassedModel } from '../subclassed-model.js';

/** A Keras model file read into what convertKerasModel takes. */
export interface KerasModelFile {
  modelConfig: KerasObject;
  weights: SourceWeight[];
  /** The file, for messages. */
  source: string;
  /** The Keras version that wrote the file, when it says. */
  kerasVersion?: string;
}

export interface ReadModelFileOptions {
  /** Limits on what a .keras zip may declare (docs/hostile-input.md); unset ones keep DEFAULT_ARCHIVE_LIMITS. */
  limits?: Partial<ArchiveLimits>;
  /** How long reading the HDF5 part may take before it is stopped (DEFAULT_HDF5_TIMEOUT_MS). */
  hdf5TimeoutMs?: number;
}

const ZIP_MAGIC = [0x50, 0x4b]; // "PK": every zip starts with a PK record (local file header or, when empty, the end record).
/** HDF5's superblock may follow a user block of 512, 1024, 2048… bytes. */
const HDF5_SIGNATURE_OFFSETS = [0, 512, 1024, 2048, 4096];

/**
 * Reads a Keras 3 `.keras` file or a legacy full-model `.h5` file, told apart by their bytes
 * (zip or HDF5 signature), not their extension. A file that is both is refused (polyglot.ts).
 */
export async function readKerasModelFile(file: string, options: ReadModelFileOptions = {}): Promise<KerasModelFile> {
  const hdf5Limits = hdf5LimitsFrom(options.limits);
  const head = await readBytes(file, 0, HDF5_SIGNATURE_OFFSETS.at(-1)! + HDF5_MAGIC.length);
  if (startsWith(head, 0, ZIP_MAGIC)) {
    const bytes = await readWholeFile(file);
    const archive = readKerasArchive(bytes, file, options.limits);
    refuseHdf5InZip(file, bytes, findEndRecord(bytes)!, archive.weightsStoredAt);
    // Before its weights: a subclassed model's config does not list the layers they belong to.
    refuseUnrecordedSubclassedModel(archive.modelConfig, file);
    // A layer whose automatic config has no name (layer-names.ts) takes the one its weights are tagged with.
    const task = { kind: 'keras3-weights', bytes: archive.weightsH5, file, modelConfig: archive.modelConfig, limits: hdf5Limits } as const;
    const { modelConfig, weights } = await runHdf5TaskInWorker(task, options.hdf5TimeoutMs);
    return { modelConfig, weights, source: file, ...(archive.kerasVersion ? { kerasVersion: archive.kerasVersion } : {}) };
  }
  const hdf5At = HDF5_SIGNATURE_OFFSETS.find((offset) => hasHdf5Signature(head, offset));
  if (hdf5At !== undefined) {
    const size = await fileSize(file);
    const tailStart = Math.max(0, size - ZIP_TAIL_BYTES);
    refuseZipInHdf5(file, hdf5At, await readBytes(file, tailStart, size - tailStart), tailStart);
    if (size > hdf5Limits.maxTotalBytes) {
      throw new InputError(`${file}: ${size} bytes, more than the ${hdf5Limits.maxTotalBytes}-byte limit on an HDF5 model file (raise with --max-uncompressed-bytes).`);
    }
    const bytes = await readWholeFile(file); // its own buffer: transferred to the HDF5 worker, not copied
    const model = await runHdf5TaskInWorker({ kind: 'legacy-model', bytes, file, limits: hdf5Limits }, options.hdf5TimeoutMs);
    return { ...model, source: file };
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

async function readWholeFile(file: string): Promise<Uint8Array> {
  return readFile(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ERR_FS_FILE_TOO_LARGE') throw new InputError(`${file}: larger than the 2 GiB Node reads into memory at once.`);
    return cannotRead(file)(e);
  });
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
