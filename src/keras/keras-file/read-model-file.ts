import { open, readFile } from 'node:fs/promises';
import type { SourceWeight } from '../../convert/weight-source.js';
import { InputError } from '../../errors.js';
import type { KerasObject } from '../keras-object.js';
import { withHdf5File } from './hdf5-file.js';
import { readKerasArchive } from './keras-archive.js';
import { withLayerNames } from '../layer-names.js';
import { layerNameTags, weightsFromKeras3H5 } from './keras3-weights.js';
import { readLegacyH5Model } from './legacy-h5-model.js';
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

const ZIP_MAGIC = [0x50, 0x4b]; // "PK": every zip starts with a PK record (local file header or, when empty, the end record).
const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]; // "\x89HDF\r\n\x1a\n"
/** HDF5's superblock may follow a user block of 512, 1024, 2048… bytes. */
const HDF5_SIGNATURE_OFFSETS = [0, 512, 1024, 2048, 4096];

/**
 * Reads a Keras 3 `.keras` file or a legacy full-model `.h5` file, told apart by their bytes
 * (zip or HDF5 signature), not their extension.
 */
export async function readKerasModelFile(file: string): Promise<KerasModelFile> {
  const head = await readHead(file, HDF5_SIGNATURE_OFFSETS.at(-1)! + HDF5_MAGIC.length);
  if (startsWith(head, 0, ZIP_MAGIC)) {
    const archive = readKerasArchive(await readFile(file), file);
    // Before its weights: a subclassed model's config does not list the layers they belong to.
    refuseUnrecordedSubclassedModel(archive.modelConfig, file);
    // A layer whose automatic config has no name (layer-names.ts) takes the one its weights are tagged with.
    const { modelConfig, weights } = await withHdf5File({ bytes: archive.weightsH5 }, `${file}: model.weights.h5`, (root) => {
      const named = withLayerNames(archive.modelConfig, layerNameTags(root, archive.modelConfig, file));
      return { modelConfig: named, weights: weightsFromKeras3H5(root, named, file) };
    });
    return { modelConfig, weights, source: file, ...(archive.kerasVersion ? { kerasVersion: archive.kerasVersion } : {}) };
  }
  if (HDF5_SIGNATURE_OFFSETS.some((offset) => startsWith(head, offset, HDF5_MAGIC))) {
    const model = await withHdf5File({ path: file }, file, (root) => readLegacyH5Model(root, file));
    return { ...model, source: file };
  }
  throw new InputError(
    `${file}: neither a .keras file (zip) nor a Keras .h5 file (HDF5). Save the model with model.save('model.keras'), ` +
      `or pass a bundle directory written by 'keras-bridge export'.`,
  );
}

async function readHead(file: string, length: number): Promise<Uint8Array> {
  const handle = await open(file, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new InputError(`${file}: cannot read (${e.code ?? e.message}).`);
  });
  try {
    const buffer = new Uint8Array(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function startsWith(bytes: Uint8Array, offset: number, magic: readonly number[]): boolean {
  return bytes.length >= offset + magic.length && magic.every((b, i) => bytes[offset + i] === b);
}
