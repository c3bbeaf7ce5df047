import type { Bundle } from '../keras/bundle.js';
import type { BundleManifest } from '../keras/bundle-manifest.js';
import type { KerasObject } from '../keras/keras-object.js';
import { convertKerasModel, type ConvertedModel } from './convert-model.js';
import { routeInputs, type RouteName } from './route-inputs.js';
import { weightsFromBundle, type SourceWeight } from './weight-source.js';

/** What a conversion reads: a bundle's model, or a .keras/.h5 file's. */
export interface ConversionSource {
  modelConfig: KerasObject;
  weights: SourceWeight[];
  /** The file the config came from, for messages. */
  source: string;
  /** Only a bundle has one: its custom-layer routes' records (retraces, graphs, translated classes). */
  manifest?: BundleManifest;
  /** A bundle's graphs.bin (route 3's graph constants). */
  graphBytes?: Uint8Array;
}

export interface ConvertSourceOptions {
  /** The custom-layer routes conversion may use (--routes); all by default. */
  routes?: readonly RouteName[];
  /** Exit 2 on NaN/Inf weights instead of warning (convert --refuse-non-finite-weights). */
  refuseNonFiniteWeights?: boolean;
}

/** A bundle as a conversion source. */
export function bundleSource(bundle: Bundle): ConversionSource {
  return {
    modelConfig: bundle.modelConfig,
    weights: weightsFromBundle(bundle),
    source: `${bundle.dir}/${bundle.manifest.model.config_file}`,
    manifest: bundle.manifest,
    graphBytes: bundle.graphBytes,
  };
}

/** The one way convert, demo and parity turn a source into a tfjs model, with the custom-layer routes its bundle records. */
export async function convertSource(input: ConversionSource, options: ConvertSourceOptions = {}): Promise<ConvertedModel> {
  return convertKerasModel(input.modelConfig, input.weights, input.source, {
    ...(await routeInputs(input.manifest, input.graphBytes, options.routes)),
    fromFile: !input.manifest,
    ...(options.refuseNonFiniteWeights ? { refuseNonFiniteWeights: true } : {}),
  });
}

/** A bundle's model converted in memory. */
export function convertBundle(bundle: Bundle, options: ConvertSourceOptions = {}): Promise<ConvertedModel> {
  return convertSource(bundleSource(bundle), options);
}
