import { routeInputs } from '../convert/route-inputs.js';
import type { FieldNote, LayerConversion } from '../convert/conversion-report.js';
import { completedReport, planConversion, type ConvertOptions } from '../convert/convert-model.js';
import { streamWeights } from '../convert/weight-stream.js';
import { isKerasBridgeClass } from '../convert/keras-bridge-classes.js';
import { translateModel, isModelClass } from '../convert/translate-model.js';
import type { LayerFailure } from '../convert/translation-context.js';
import type { SourceWeight } from '../convert/weight-source.js';
import { KerasBridgeError, LayerConfigError, UnregisteredLayerError, UnsupportedLayerError } from '../errors.js';
import type { BundleManifest } from '../keras/bundle-manifest.js';
import { isKerasObject, type KerasObject } from '../keras/keras-object.js';
import { entryName } from '../keras/layer-names.js';
import { recordedSubclass } from '../keras/subclassed-model.js';
import type { InspectedCustomClass, InspectedLayer, InspectReport, LayerStatus, MissingKind } from './inspect-report.js';

const STATUSES: LayerStatus[] = ['tfjs', 'keras-bridge', 'operation', 'registered', 'model', 'translated', 'retraced', 'graph-fallback', 'dropped', 'missing'];

/**
 * How every layer of a model would convert, from the converter itself: the model is translated
 * with failures recorded instead of thrown (translateModel's `failures`), so each layer gets the
 * converter's own verdict and reason, then converted for real (planned, and every weight read and
 * checked as convert writes it, none kept), so that what `inspect` says and what `convert` does cannot differ.
 */
export async function inspectModel(
  modelConfig: KerasObject,
  weights: SourceWeight[],
  source: string,
  manifest?: BundleManifest,
  graphBytes: Uint8Array = new Uint8Array(),
): Promise<InspectReport> {
  const failures: LayerFailure[] = [];
  const conversions = new Map<string, LayerConversion>();
  const notesByField = new Map<string, FieldNote>();
  let modelName = String(modelConfig.config['name'] ?? 'model');
  const subclassedModel = recordedSubclass(modelConfig);
  let topLevelError: string | undefined;
  // The routes convert would use, route 1's generated classes loaded (custom-layer-route.ts).
  const routes = await routeInputs(manifest, graphBytes);
  const translatedClasses = new Set(routes.translated?.classes.map((c) => c.className) ?? []);
  try {
    const { report } = translateModel(modelConfig, source, {
      failures,
      ...(routes.retraces ? { retraces: routes.retraces } : {}),
      ...(routes.graphs ? { graphs: routes.graphs } : {}),
      translatedClasses,
      ...(routes.translated ? { subLayerNames: routes.translated.subLayerNames } : {}),
    });
    modelName = report.model;
    indexConversions(report.layers, [], conversions, notesByField);
    for (const note of report.modelNotes) notesByField.set(note.field, note);
  } catch (e) {
    if (!(e instanceof KerasBridgeError)) throw e;
    topLevelError = e.message;
  }
  const failed = new Map(failures.map((f) => [key(f.path, f.name), f]));
  const layers = topLevelError === undefined ? modelEntries(modelConfig, []).map(({ entry, path }) => inspectLayer(entry, path, conversions, failed, notesByField)) : [];
  const counts = Object.fromEntries(STATUSES.map((s) => [s, layers.filter((l) => l.status === s).length])) as Record<LayerStatus, number>;
  return {
    format: 'keras-bridge-inspect',
    version: 1,
    source,
    model: modelName,
    kerasClass: modelConfig.class_name,
    ...(subclassedModel ? { subclassedModel } : {}),
    layers,
    counts,
    conversion: await convertForReal(modelConfig, weights, source, routes),
    customClasses: (manifest?.custom_layers ?? []).map(customClass),
  };
}

async function convertForReal(
  modelConfig: KerasObject,
  weights: SourceWeight[],
  source: string,
  routes: ConvertOptions,
): Promise<InspectReport['conversion']> {
  try {
    // Each weight is read, checked and let go: inspecting a model never holds all of its weights.
    const plan = await planConversion(modelConfig, weights, source, routes);
    const report = completedReport(plan.report, await streamWeights(plan.weights, () => {}));
    return { converts: true, modelNotes: report.modelNotes, weights: report.weights, constraintWarnings: report.constraintWarnings, ...(report.nonFiniteWeights ? { nonFiniteWeights: report.nonFiniteWeights } : {}) };
  } catch (e) {
    if (!(e instanceof KerasBridgeError)) throw e;
    return { converts: false, error: e.message };
  }
}

function key(path: readonly string[], name: string): string {
  return JSON.stringify([...path, name]);
}

function indexConversions(layers: LayerConversion[], path: string[], into: Map<string, LayerConversion>, notes: Map<string, FieldNote>): void {
  for (const layer of layers) {
    into.set(key(path, layer.name), layer);
    for (const note of layer.notes) notes.set(note.field, note);
    if (layer.layers) indexConversions(layer.layers, [...path, layer.name], into, notes);
  }
}

/** A model's layer entries, depth first, with the names of the models they are nested in. */
function modelEntries(model: KerasObject, path: string[]): { entry: KerasObject; path: string[] }[] {
  const layers = model.config['layers'];
  if (!Array.isArray(layers)) return [];
  return layers.filter(isKerasObject).flatMap((entry) => [
    { entry, path },
    ...(isModelClass(entry) ? modelEntries(entry, [...path, entryName(entry) ?? '(unnamed)']) : []),
  ]);
}

function inspectLayer(
  entry: KerasObject,
  path: string[],
  conversions: Map<string, LayerConversion>,
  failures: Map<string, LayerFailure>,
  notesByField: Map<string, FieldNote>,
): InspectedLayer {
  const name = entryName(entry) ?? '(unnamed)';
  const base = { path, name, kerasClass: entry.class_name, module: entry.module ?? null };
  const failure = failures.get(key(path, name));
  if (failure) return { ...base, status: 'missing', missing: missingReason(failure), notes: [] };
  const conversion = conversions.get(key(path, name));
  if (!conversion) {
    // Left out by the translation without a failure: a mask-only layer (translate-model.ts), noted on the model.
    const note = notesByField.get(`layers['${name}']`);
    return { ...base, status: 'dropped', notes: note ? [note] : [] };
  }
  const subclassed = conversion.subclassedModel ? { subclassedModel: conversion.subclassedModel } : {};
  return { ...base, status: statusOf(conversion), ...subclassed, tfjsClass: conversion.tfjsClass, notes: conversion.notes };
}

function statusOf(conversion: LayerConversion): LayerStatus {
  switch (conversion.mapping) {
    case 'custom':
      return 'registered';
    case 'operation':
      return 'operation';
    case 'model':
      return 'model';
    case 'retrace':
      return 'retraced';
    case 'translated':
      return 'translated';
    case 'graph':
      return 'graph-fallback';
    case 'tfjs':
      return isKerasBridgeClass(conversion.tfjsClass) ? 'keras-bridge' : 'tfjs';
  }
}

function missingReason(failure: LayerFailure): { kind: MissingKind; reason: string } {
  const { error } = failure;
  if (error instanceof UnregisteredLayerError) {
    const origin = failure.module ? ` (Python module '${failure.module}')` : '';
    return {
      kind: 'unregistered',
      reason: `custom class${origin} with no registered TypeScript implementation; registerLayer() it in a module and pass --custom-layers`,
    };
  }
  const kind: MissingKind = error instanceof UnsupportedLayerError && !(error instanceof LayerConfigError) ? 'unsupported' : 'rejected';
  return { kind, reason: error.message };
}

function customClass(record: BundleManifest['custom_layers'][number]): InspectedCustomClass {
  return {
    className: record.class_name,
    module: record.module,
    layers: record.layers,
    source: record.source ?? null,
    baseSources: record.base_sources ?? [],
    pythonOnly: record.python_only ?? null,
    translation: record.translation ? { status: record.translation.status, gaps: record.translation.status === 'gaps' ? record.translation.gaps : [] } : null,
  };
}
