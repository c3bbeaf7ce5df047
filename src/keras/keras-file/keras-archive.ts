import { strFromU8, unzipSync, type Unzipped } from 'fflate';
import { InputError } from '../../errors.js';
import { kerasObjectSchema, type KerasObject } from '../keras-object.js';
import { parseUntrustedJson } from '../json-limits.js';
import { describeZodIssue } from '../zod-issues.js';
import { checkEntryChecksums } from './zip-entry-checksums.js';

/** What a Keras 3 `.keras` file holds that conversion needs. */
export interface KerasArchive {
  /** config.json: the model as `keras.saving.serialize_keras_object` writes it. */
  modelConfig: KerasObject;
  /** metadata.json's keras_version; undefined when the archive has no metadata.json. */
  kerasVersion?: string;
  /** model.weights.h5, still as bytes. */
  weightsH5: Uint8Array;
}

export const CONFIG_ENTRY = 'config.json';
export const METADATA_ENTRY = 'metadata.json';
export const WEIGHTS_ENTRY = 'model.weights.h5';

/** Other weight stores Keras 3 can write (sharded h5, npz), which keras-bridge does not read. */
const OTHER_WEIGHT_ENTRIES = ['model.weights.json', 'model.weights.npz'];

/**
 * Unpacks a `.keras` zip: config.json, metadata.json and model.weights.h5 (the layout
 * `keras.saving.save_model` writes). Anything missing or malformed is an InputError naming the
 * file and the entry.
 */
export function readKerasArchive(zipBytes: Uint8Array, file: string): KerasArchive {
  const names: string[] = [];
  let entries: Unzipped;
  try {
    entries = unzipSync(zipBytes, {
      filter: (entry) => {
        names.push(entry.name);
        return entry.name === CONFIG_ENTRY || entry.name === METADATA_ENTRY || entry.name === WEIGHTS_ENTRY;
      },
    });
  } catch (e) {
    throw new InputError(
      `${file}: not a readable .keras (zip) file: ${(e as Error).message}. The file may be truncated; ` +
        `save the model again with model.save('model.keras').`,
    );
  }
  checkEntryChecksums(zipBytes, entries, file);
  const kerasVersion = readMetadata(entries, file);
  const config = entries[CONFIG_ENTRY];
  if (!config) throw missingEntry(file, CONFIG_ENTRY, names);
  const weightsH5 = entries[WEIGHTS_ENTRY];
  if (!weightsH5) {
    const other = OTHER_WEIGHT_ENTRIES.find((name) => names.includes(name));
    if (other) {
      throw new InputError(
        `${file}: weights are stored as '${other}' (sharded or npz weights); keras-bridge reads '${WEIGHTS_ENTRY}'. ` +
          `Save the model without max_shard_size, or export a bundle with 'keras-bridge export --model'.`,
      );
    }
    throw missingEntry(file, WEIGHTS_ENTRY, names);
  }
  return { modelConfig: parseModelConfig(config, file), ...(kerasVersion ? { kerasVersion } : {}), weightsH5 };
}

function missingEntry(file: string, entry: string, names: readonly string[]): InputError {
  return new InputError(
    `${file}: the .keras archive has no '${entry}' (it holds: ${names.join(', ') || 'nothing'}). ` +
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
function readMetadata(entries: Unzipped, file: string): string | undefined {
  const bytes = entries[METADATA_ENTRY];
  if (!bytes) return undefined;
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
