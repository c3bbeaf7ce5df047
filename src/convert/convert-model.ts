import * as tf from '@tensorflow/tfjs';
import { KerasBridgeError, LayerFieldError, UnsupportedLayerError, UnsupportedLayerFieldError, WeightMismatchError } from '../errors.js';
import type { RetraceRecord } from '../keras/bundle-manifest.js';
import type { GraphFallback } from './graph-fallback-translation.js';
import type { TranslatedLayers } from './translated-layers.js';
import type { KerasObject } from '../keras/keras-object.js';
import { assignWeights } from './assign-weights.js';
import type { ConversionReport, FieldNote } from './conversion-report.js';
import { checkCustomLayersRegistered } from './missing-custom-layers.js';
import { constraintWarnings } from './weight-constraints.js';
import { refuseCodeInConfig } from './code-carrying-objects.js';
import { withWeightBudget } from './weight-budget.js';
import { checkTopologyGraph } from './topology-graph-check.js';
import { translateModel, type TfjsTopology } from './translate-model.js';
import type { SourceWeight } from './weight-source.js';

/** A converted model: what model.json and its weight shards hold, plus the report. */
export interface ConvertedModel {
  topology: TfjsTopology;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: Uint8Array;
  report: ConversionReport;
  /** Generated TypeScript and custom-layers.js, for the model directory. */
  translated?: TranslatedLayers;
}

export interface ConvertOptions {
  /** A bundle's symbolic re-traces of custom layers (retracesFromManifest): the layers they convert need no TypeScript class. */
  retraces?: ReadonlyMap<string, RetraceRecord>;
  /** A bundle's traced graphs of custom layers (graphsFromBundle): route 3, for layers neither a class nor a re-trace covers. */
  graphs?: ReadonlyMap<string, GraphFallback>;
  /** The bundle's classes generated from Python source (route 1), already loaded (loadTranslatedLayers): written next to model.json. */
  translated?: TranslatedLayers;
  /** Why route 1 could not translate a class, by class name (translationGapsOf), for the missing-class error. */
  translationGaps?: ReadonlyMap<string, string[]>;
  /** The model is a .keras/.h5 file, not a bundle: a missing class's error says how to have keras-bridge write it. */
  fromFile?: boolean;
  /** Refuse a model whose float weights hold NaN or infinities, instead of warning. */
  refuseNonFiniteWeights?: boolean;
}

export const TFJS_SHARD_BYTES = 4 * 1024 * 1024;

/**
 * Keras 3 config + weights → tfjs-layers topology + weights. The topology is instantiated with
 * tfjs itself, so that every layer is known to load and its weight names and shapes come from
 * tfjs rather than from guesses.
 */
export async function convertKerasModel(
  modelConfig: KerasObject,
  weights: SourceWeight[],
  source: string,
  options: ConvertOptions = {},
): Promise<ConvertedModel> {
  refuseCodeInConfig(modelConfig, source);
  const translatedClasses = new Set(options.translated?.classes.map((c) => c.className) ?? []);
  try {
    return await convertWith(modelConfig, weights, source, options, translatedClasses);
  } catch (e) {
    // Route 1's generated TypeScript failing when tfjs builds the model or pairs its weights: the
    // classes the error names (else every generated one) fall to routes 2 and 3, and the report says so.
    if (translatedClasses.size === 0 || !(e instanceof UnsupportedLayerError || e instanceof WeightMismatchError || e instanceof LayerFieldError)) throw e;
    const named = [...translatedClasses].filter((c) => e.message.includes(c));
    const failed = named.length > 0 ? named : [...translatedClasses];
    const remaining = new Set([...translatedClasses].filter((c) => !failed.includes(c)));
    let converted: ConvertedModel;
    try {
      converted = await convertWith(modelConfig, weights, source, options, remaining);
    } catch {
      throw e; // no other route takes them either: the first error is the one to fix
    }
    const why = e.message.split('\n')[0]!.replace(`${source}: `, '');
    const notes: FieldNote[] = failed.map((c) => ({
      field: `custom layer class ${c}`,
      action: 'changed' as const,
      from: 'generated TypeScript (route 1)',
      to: 'the next route',
      reason: `its TypeScript generated from the Python source (route 1) failed (${why}); converted by the next route instead`,
    }));
    return { ...converted, report: { ...converted.report, modelNotes: [...converted.report.modelNotes, ...notes] } };
  }
}

async function convertWith(
  modelConfig: KerasObject,
  weights: SourceWeight[],
  source: string,
  options: ConvertOptions,
  translatedClasses: ReadonlySet<string>,
): Promise<ConvertedModel> {
  checkCustomLayersRegistered(modelConfig, source, options.retraces, options.graphs, translatedClasses, options.translationGaps, options.fromFile);
  const { topology, report } = translateModel(modelConfig, source, {
    retraces: options.retraces,
    graphs: options.graphs,
    translatedClasses,
    ...(options.translated ? { subLayerNames: options.translated.subLayerNames } : {}),
  });
  checkTopologyGraph(topology, source);
  const fileWeightBytes = weights.reduce((n, w) => n + w.bytes.length, 0);
  const model = await withWeightBudget(fileWeightBytes, source, () => instantiate(topology, source));
  try {
    const assigned = assignWeights(model, weights, source, { refuseNonFinite: options.refuseNonFiniteWeights ?? false });
    return {
      topology,
      ...(options.translated ? { translated: options.translated } : {}),
      weightSpecs: assigned.specs,
      weightData: assigned.data,
      report: {
        ...report,
        modelNotes: [...report.modelNotes, ...assigned.notes],
        weights: {
          count: assigned.specs.length,
          bytes: assigned.data.length,
          shards: Math.max(1, Math.ceil(assigned.data.length / TFJS_SHARD_BYTES)),
        },
        constraintWarnings: constraintWarnings(assigned.paired),
        ...(assigned.nonFinite.length > 0 ? { nonFiniteWeights: assigned.nonFinite } : {}),
      },
    };
  } finally {
    model.dispose();
  }
}

async function instantiate(topology: TfjsTopology, source: string): Promise<tf.LayersModel> {
  try {
    return await tf.models.modelFromJSON({ modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'] });
  } catch (e) {
    // A layer of ours refusing a field names the layer and the field; the model file is named here.
    if (e instanceof LayerFieldError || e instanceof UnsupportedLayerFieldError) throw e.in(source);
    if (e instanceof UnsupportedLayerError && !e.message.startsWith(source)) {
      throw new UnsupportedLayerError(`${source}: tfjs-layers could not build the converted model: ${e.message}`);
    }
    if (e instanceof KerasBridgeError) throw e;
    throw new UnsupportedLayerError(`${source}: tfjs-layers could not build the converted model: ${(e as Error).message}`);
  }
}

/** The model as in-memory artifacts, for tf.loadLayersModel(tf.io.fromMemory(...)). */
export function toModelArtifacts(converted: ConvertedModel): tf.io.ModelArtifacts {
  const { weightData } = converted;
  return {
    modelTopology: converted.topology as unknown as tf.io.ModelArtifacts['modelTopology'],
    format: 'layers-model',
    generatedBy: 'keras-bridge',
    convertedBy: 'keras-bridge 0.1.0',
    weightSpecs: converted.weightSpecs,
    weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength) as ArrayBuffer,
  };
}
