import { withInferenceRewrites } from './inference-rewrites/apply-rewrites.js';
import type { Bundle } from '../keras/bundle.js';
import type { BundleManifest } from '../keras/bundle-manifest.js';
import type { KerasObject } from '../keras/keras-object.js';
import { materializeConversion, planConversion, type ConvertedModel, type PlannedConversion } from './convert-model.js';
import { routeInputs, type RouteName } from './route-inputs.js';
import { weightsFromBundle, weightsFromBundleFile, type SourceWeight } from './weight-source.js';

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
  /** Ends reading weights from the model file (a source opened with lazy weights); safe to call twice. */
  close?(): Promise<void>;
}

export interface ConvertSourceOptions {
  /** The custom-layer routes conversion may use (--routes); all by default. */
  routes?: readonly RouteName[];
  /** Exit 2 on NaN/Inf weights instead of warning (convert --refuse-non-finite-weights). */
  refuseNonFiniteWeights?: boolean;
  /** Fold each BatchNormalization into the layer before it, for inference (convert --fold-batch-norm; inference-rewrites/). */
  foldBatchNorm?: boolean;
}

/** A bundle loaded without its weights (loadBundle's `weights: false`) as a conversion source that reads them when written; close it. */
export async function lazyBundleSource(bundle: Bundle): Promise<ConversionSource> {
  const { weights, close } = await weightsFromBundleFile(bundle);
  return { ...bundleSource(bundle), weights, close };
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
  const converted = await materializeConversion(await planSource(input, options));
  return options.foldBatchNorm ? withInferenceRewrites(converted) : converted;
}

/** convertSource without reading the weights: writeModelDirectory streams them from the source. */
export async function planSource(input: ConversionSource, options: ConvertSourceOptions = {}): Promise<PlannedConversion> {
  return planConversion(input.modelConfig, input.weights, input.source, {
    ...(await routeInputs(input.manifest, input.graphBytes, options.routes)),
    fromFile: !input.manifest,
    ...(options.refuseNonFiniteWeights ? { refuseNonFiniteWeights: true } : {}),
  });
}

/** A bundle's model converted in memory. */
export function convertBundle(bundle: Bundle, options: ConvertSourceOptions = {}): Promise<ConvertedModel> {
  return convertSource(bundleSource(bundle), options);
}
