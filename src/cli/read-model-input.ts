import { stat } from 'node:fs/promises';
import { bundleSource, lazyBundleSource, type ConversionSource } from '../convert/convert-bundle.js';
import { InputError } from '../errors.js';
import { loadBundle } from '../keras/bundle.js';
import { openKerasModelFile, readKerasModelFile, type ReadModelFileOptions } from '../keras/keras-file/read-model-file.js';

/** What convert and inspect read from their MODEL argument. */
export type ModelInput = ConversionSource;

export interface ReadModelInputOptions extends ReadModelFileOptions {
  /**
   * Read the weights (of a model file or a bundle) only when the conversion writes them, so that
   * they are never all in memory; the caller must `close()` the input.
   */
  lazyWeights?: boolean;
}

/** A bundle directory, or a .keras/.h5 model file (InputError when it is neither, or unreadable). */
export async function readModelInput(modelPath: string, options: ReadModelInputOptions = {}): Promise<ModelInput> {
  const info = await stat(modelPath).catch(() => null);
  if (!info) {
    throw new InputError(`${modelPath}: no such file or directory (expected a bundle directory, a .keras file or an .h5 file).`);
  }
  if (info.isFile()) return options.lazyWeights ? openKerasModelFile(modelPath, options) : readKerasModelFile(modelPath, options);
  // Conversion and inspection read the model and its weights, never the goldens.
  if (options.lazyWeights) return lazyBundleSource(await loadBundle(modelPath, { goldens: false, weights: false }));
  return bundleSource(await loadBundle(modelPath, { goldens: false }));
}
