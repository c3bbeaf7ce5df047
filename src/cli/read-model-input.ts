import { stat } from 'node:fs/promises';
import { weightsFromBundle, type SourceWeight } from '../convert/weight-source.js';
import { InputError } from '../errors.js';
import { loadBundle } from '../keras/bundle.js';
import type { BundleManifest } from '../keras/bundle-manifest.js';
import type { KerasObject } from '../keras/keras-object.js';
import { readKerasModelFile, type ReadModelFileOptions } from '../keras/keras-file/read-model-file.js';

/** What convert and inspect read from their MODEL argument. */
export interface ModelInput {
  modelConfig: KerasObject;
  weights: SourceWeight[];
  /** The file the config came from, for messages. */
  source: string;
  /** Only a bundle has one. */
  manifest?: BundleManifest;
  /** A bundle's graphs.bin (route 3's graph constants). */
  graphBytes?: Uint8Array;
}

/** A bundle directory, or a .keras/.h5 model file (InputError when it is neither, or unreadable). */
export async function readModelInput(modelPath: string, options: ReadModelFileOptions = {}): Promise<ModelInput> {
  const info = await stat(modelPath).catch(() => null);
  if (!info) {
    throw new InputError(`${modelPath}: no such file or directory (expected a bundle directory, a .keras file or an .h5 file).`);
  }
  if (info.isFile()) return readKerasModelFile(modelPath, options);
  const bundle = await loadBundle(modelPath);
  return {
    modelConfig: bundle.modelConfig,
    weights: weightsFromBundle(bundle),
    source: `${bundle.dir}/${bundle.manifest.model.config_file}`,
    manifest: bundle.manifest,
    graphBytes: bundle.graphBytes,
  };
}
