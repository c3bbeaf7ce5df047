import { stat } from 'node:fs/promises';
import { bundleSource, type ConversionSource } from '../convert/convert-bundle.js';
import { InputError } from '../errors.js';
import { loadBundle } from '../keras/bundle.js';
import { readKerasModelFile, type ReadModelFileOptions } from '../keras/keras-file/read-model-file.js';

/** What convert and inspect read from their MODEL argument. */
export type ModelInput = ConversionSource;

/** A bundle directory, or a .keras/.h5 model file (InputError when it is neither, or unreadable). */
export async function readModelInput(modelPath: string, options: ReadModelFileOptions = {}): Promise<ModelInput> {
  const info = await stat(modelPath).catch(() => null);
  if (!info) {
    throw new InputError(`${modelPath}: no such file or directory (expected a bundle directory, a .keras file or an .h5 file).`);
  }
  if (info.isFile()) return readKerasModelFile(modelPath, options);
  // Conversion and inspection read the model and its weights, never the goldens.
  return bundleSource(await loadBundle(modelPath, { goldens: false }));
}
