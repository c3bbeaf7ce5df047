import { strFromU8 } from 'fflate';
import { InputError } from '../../errors.js';
import { kerasObjectSchema, type KerasObject } from '../keras-object.js';
import { parseUntrustedJson } from '../json-limits.js';
import { describeZodIssue } from '../zod-issues.js';
import { archiveLimits, entrySizeRefusal, type ArchiveLimits } from './zip/archive-limits.js';
import { limitError } from './zip/zip-errors.js';
import { METHOD_STORED } from './zip/central-directory.js';
import type { ByteSource } from './zip/byte-source.js';
import { openZipArchive, readZipEntry, type StoredZipEntry, type ZipArchive } from './zip/zip-archive.js';

/** What a Keras 3 `.keras` file holds that conversion needs. */
export interface KerasArchive {
  /** config.json: the model as `keras.saving.serialize_keras_object` writes it. */
  modelConfig: KerasObject;
  /** metadata.json's keras_version; undefined when the archive has no metadata.json. */
  kerasVersion?: string;
  /**
   * model.weights.h5: where it lies in the file when stored uncompressed (as Keras writes it), to be
   * read in place, with the entry's name and recorded CRC-32 for the reader to check before it
   * reads a dataset (the HDF5 reader's thread does: hdf5-file.ts, OpenHdf5Options); or its inflated
   * bytes, checked.
   */
  weightsH5: { start: number; length: number; zipEntry: StoredZipEntry } | { bytes: Uint8Array };
  /** The offset of the zip end record, for messages. */
  endRecordAt: number;
}

export const CONFIG_ENTRY = 'config.json';
export const METADATA_ENTRY = 'metadata.json';
export const WEIGHTS_ENTRY = 'model.weights.h5';

/** Other weight stores Keras 3 can write (sharded h5, npz), which keras-bridge does not read. */
const OTHER_WEIGHT_ENTRIES = ['model.weights.json', 'model.weights.npz'];

/**
 * Unpacks a `.keras` zip: config.json, metadata.json and model.weights.h5 (the layout
 * `keras.saving.save_model` writes). The zip's structure and declared sizes are checked against
 * `limits` before anything is inflated (zip/zip-archive.ts). Anything missing, malformed or over
 * a limit is an InputError naming the file and the entry.
 */
export function readKerasArchive(content: Uint8Array | ByteSource, file: string, limits: Partial<ArchiveLimits> = {}): KerasArchive {
  const zip = openZipArchive(content, file, archiveLimits(limits));
  const names = zip.entries.map((entry) => entry.name);
  // Every entry read is CRC-checked before any is parsed: a damaged byte is reported as damage
  // (a stored model.weights.h5 by its reader, which reads it anyway, off this thread).
  const metadata = readEntry(zip, METADATA_ENTRY, 'maxJsonBytes');
  const config = readEntry(zip, CONFIG_ENTRY, 'maxJsonBytes');
  const weights = zip.entries.find((entry) => entry.name === WEIGHTS_ENTRY);
  const weightsH5 = weights && readWeightsEntry(zip, weights);
  const kerasVersion = metadata && readMetadata(metadata, file);
  if (!config) throw missingEntry(file, CONFIG_ENTRY, names);
  if (!weights || !weightsH5) {
    const other = OTHER_WEIGHT_ENTRIES.find((name) => names.includes(name));
    if (other) {
      throw new InputError(
        `${file}: weights are stored as '${other}' (sharded or npz weights); keras-bridge reads '${WEIGHTS_ENTRY}'. ` +
          `Save the model without max_shard_size, or export a bundle with 'keras-bridge export --model'.`,
      );
    }
    throw missingEntry(file, WEIGHTS_ENTRY, names);
  }
  return {
    modelConfig: parseModelConfig(config, file),
    ...(kerasVersion ? { kerasVersion } : {}),
    weightsH5,
    endRecordAt: zip.endRecordAt,
  };
}

/**
 * A stored model.weights.h5 is left where it lies, its CRC-32 for its reader to check (reading 100
 * MB here took this thread 50-100 ms while the command's modules were loading); a deflated one is
 * inflated and checked.
 */
function readWeightsEntry(zip: ZipArchive, entry: ZipArchive['entries'][number]): KerasArchive['weightsH5'] {
  if (entry.method !== METHOD_STORED) return { bytes: readZipEntry(zip, entry) };
  const refusal = entrySizeRefusal(entry, zip.limits);
  if (refusal) throw limitError(zip.file, entry.name, refusal);
  return { start: entry.dataStart, length: entry.dataEnd - entry.dataStart, zipEntry: { archive: zip.file, name: entry.name, crc32: entry.crc32 } };
}

function readEntry(zip: ZipArchive, name: string, cap: 'maxEntryBytes' | 'maxJsonBytes'): Uint8Array | undefined {
  const entry = zip.entries.find((e) => e.name === name);
  return entry && readZipEntry(zip, entry, cap);
}

function missingEntry(file: string, entry: string, names: readonly string[]): InputError {
  const shown = names.length > 20 ? `${names.slice(0, 20).join(', ')} and ${names.length - 20} more` : names.join(', ');
  return new InputError(
    `${file}: the .keras archive has no '${entry}' (it holds: ${shown || 'nothing'}). ` +
      `Save the model again with model.save('model.keras').`,
  );
}

function parseJsonEntry(bytes: Uint8Array, file: string, entry: string): unknown {
  return parseUntrustedJson(strFromU8(bytes), `${file}: ${entry}`);
}

function parseModelConfig(bytes: Uint8Array, file: string): KerasObject {
  const result = kerasObjectSchema.safeParse(parseJsonEntry(bytes, file, CONFIG_ENTRY));
  if (result.success) return result.data;
  throw new InputError(
    `${file}: ${CONFIG_ENTRY}: ${describeZodIssue(result.error.issues[0]!)}; expected Keras's serialized-object ` +
      `form ({module, class_name, config, registered_name}).`,
  );
}

/**
 * Keras 2.13-2.15 also wrote `.keras` files, with another weight layout
 * (`_layer_checkpoint_dependencies`); they are refused rather than misread.
 */
function readMetadata(bytes: Uint8Array, file: string): string | undefined {
  const metadata = parseJsonEntry(bytes, file, METADATA_ENTRY) as { keras_version?: unknown } | null;
  const version = metadata?.keras_version;
  if (version === undefined) return undefined;
  if (typeof version !== 'string') throw new InputError(`${file}: ${METADATA_ENTRY}: field 'keras_version' is not a string.`);
  const major = Number.parseInt(version, 10);
  if (Number.isFinite(major) && major < 3) {
    throw new InputError(
      `${file}: written by Keras ${version}; keras-bridge reads .keras files from Keras 3, whose weight layout ` +
        `differs. Load it with Keras 3 and save it again, or save it from Keras 2 as .h5 (model.save('model.h5')).`,
    );
  }
  return version;
}
