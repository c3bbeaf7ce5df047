import tf from '#tfjs';
import { KerasBridgeError, LayerFieldError, UnsupportedLayerError, UnsupportedLayerFieldError, WeightMismatchError } from '../errors.js';
import type { RetraceRecord } from '../keras/bundle-manifest.js';
import type { GraphFallback } from './graph-fallback-translation.js';
import type { TranslatedLayers } from './translated-layers.js';
import type { KerasObject } from '../keras/keras-object.js';
import { planWeights, type WeightPlan } from './weight-plan.js';
import { streamWeights, type WeightChecks } from './weight-stream.js';
import type { ConversionReport, FieldNote } from './conversion-report.js';
import { checkCustomLayersRegistered } from './missing-custom-layers.js';
import { refuseCodeInConfig } from './code-carrying-objects.js';
import { withWeightBudget } from './weight-budget.js';
import { withoutInitializers } from './skip-initializers.js';
import { checkTopologyGraph } from './topology-graph-check.js';
import { translateModel, type TfjsTopology } from './translate-model.js';
import { rewritesMetadata } from './inference-rewrites/rewrites-metadata.js';
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

/**
 * A conversion whose weights are paired and checked against what the source declares, but not yet
 * read: writeModelDirectory streams them from the model file to the shards, and
 * materializeConversion reads them into memory. `report` lacks what reading the values finds
 * (constraint warnings, non-finite weights) until then.
 */
export interface PlannedConversion {
  topology: TfjsTopology;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weights: WeightPlan;
  report: ConversionReport;
  translated?: TranslatedLayers;
  /** Refuse NaN/Inf weights when they are read (ConvertOptions.refuseNonFiniteWeights). */
  refuseNonFiniteWeights: boolean;
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
 * Keras 3 config + weights → tfjs-layers topology + weights, in memory. The topology is
 * instantiated with tfjs itself, so that every layer is known to load and its weight names and
 * shapes come from tfjs rather than from guesses.
 */
export async function convertKerasModel(
  modelConfig: KerasObject,
  weights: SourceWeight[],
  source: string,
  options: ConvertOptions = {},
): Promise<ConvertedModel> {
  return materializeConversion(await planConversion(modelConfig, weights, source, options));
}

/** The weights' values read into one buffer, in shard order, and the report completed with what they hold. */
export async function materializeConversion(plan: PlannedConversion): Promise<ConvertedModel> {
  const weightData = new Uint8Array(plan.weights.byteLength);
  let offset = 0;
  const checks = await streamWeights(plan.weights, (bytes) => {
    weightData.set(bytes, offset);
    offset += bytes.length;
  }, { refuseNonFinite: plan.refuseNonFiniteWeights });
  return {
    topology: plan.topology,
    ...(plan.translated ? { translated: plan.translated } : {}),
    weightSpecs: plan.weightSpecs,
    weightData,
    report: completedReport(plan.report, checks),
  };
}

/** The report with what reading the weights found. */
export function completedReport(report: ConversionReport, checks: WeightChecks): ConversionReport {
  return {
    ...report,
    constraintWarnings: checks.constraintWarnings,
    ...(checks.nonFinite.length > 0 ? { nonFiniteWeights: checks.nonFinite } : {}),
  };
}

/**
 * Everything a conversion decides before reading a weight's value: the topology, built with tfjs
 * (its variables left uninitialized), and each tfjs weight paired with its Keras weight.
 */
export async function planConversion(
  modelConfig: KerasObject,
  weights: SourceWeight[],
  source: string,
  options: ConvertOptions = {},
): Promise<PlannedConversion> {
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
    let converted: PlannedConversion;
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
): Promise<PlannedConversion> {
  checkCustomLayersRegistered(modelConfig, source, options.retraces, options.graphs, translatedClasses, options.translationGaps, options.fromFile);
  const { topology, report } = translateModel(modelConfig, source, {
    retraces: options.retraces,
    graphs: options.graphs,
    translatedClasses,
    ...(options.translated ? { subLayerNames: options.translated.subLayerNames } : {}),
  });
  checkTopologyGraph(topology, source);
  const fileWeightBytes = weights.reduce((n, w) => n + w.data.byteLength, 0);
  const model = await withWeightBudget(fileWeightBytes, source, () => withoutInitializers(() => instantiate(topology, source)));
  try {
    const plan = planWeights(model, weights, source);
    return {
      topology,
      ...(options.translated ? { translated: options.translated } : {}),
      weightSpecs: plan.weights.map((w) => w.spec),
      weights: plan,
      refuseNonFiniteWeights: options.refuseNonFiniteWeights ?? false,
      report: {
        ...report,
        modelNotes: [...report.modelNotes, ...plan.notes],
        weights: {
          count: plan.weights.length,
          bytes: plan.byteLength,
          shards: Math.max(1, Math.ceil(plan.byteLength / TFJS_SHARD_BYTES)),
        },
        constraintWarnings: [],
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
  const metadata = rewritesMetadata(converted.report.inferenceRewrites);
  return {
    modelTopology: converted.topology as unknown as tf.io.ModelArtifacts['modelTopology'],
    format: 'layers-model',
    generatedBy: 'keras-bridge',
    convertedBy: 'keras-bridge 0.1.0',
    weightSpecs: converted.weightSpecs,
    ...(metadata ? { userDefinedMetadata: metadata } : {}),
    // materializeConversion's buffer is the weights' own: handed over as it is (tfjs only reads it),
    // not copied once more.
    weightData:
      weightData.byteOffset === 0 && weightData.byteLength === weightData.buffer.byteLength
        ? (weightData.buffer as ArrayBuffer)
        : (weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength) as ArrayBuffer),
  };
}
