import { UnregisteredLayerError, type MissingCustomLayer } from '../errors.js';
import { isBuiltinKerasModule, isKerasObject, type KerasObject } from '../keras/keras-object.js';
import type { RetraceRecord } from '../keras/bundle-manifest.js';
import { graphRefusal, type GraphFallback } from './graph-fallback-translation.js';
import { entryName } from '../keras/layer-names.js';
import { isUnrecordedSubclassedModel, subclassedModelAdvice } from '../keras/subclassed-model.js';
import { kerasBaseLayerConfigSchema, usableCustomLayer } from '../registry/custom-layer-registry.js';

/**
 * Every custom layer class of a model (nested models included) that no TypeScript implementation
 * is registered for, found before translation so that one error lists them all, each with its
 * layers and the fields its config holds, rather than one per conversion attempt.
 */
export function checkCustomLayersRegistered(
  model: KerasObject,
  source: string,
  retraces?: ReadonlyMap<string, RetraceRecord>,
  graphs?: ReadonlyMap<string, GraphFallback>,
  translatedClasses?: ReadonlySet<string>,
  translationGaps?: ReadonlyMap<string, string[]>,
  fromFile = false,
): void {
  const missing = new Map<string, MissingCustomLayer>();
  for (const layer of modelLayers(model)) {
    if (isBuiltinKerasModule(layer.module) || usableCustomLayer(layer.class_name, layer.registered_name, translatedClasses)) continue;
    const name = entryName(layer) ?? '(unnamed)';
    const retrace = retraces?.get(name);
    const graph = graphs?.get(name);
    const graphRefused = graph ? graphRefusal(graph) : undefined;
    if (retrace?.status === 'traced' || (graph && !graphRefused)) continue; // converted by route 2 or 3
    const key = layer.registered_name ?? layer.class_name;
    const known = missing.get(key) ?? {
      className: layer.class_name,
      registeredName: layer.registered_name ?? null,
      module: layer.module ?? null,
      layers: [],
      fields: ownFields(layer.config),
      ...(isUnrecordedSubclassedModel(layer) ? { modelAdvice: subclassedModelAdvice(layer.module) } : {}),
      ...(translationGaps?.has(layer.class_name) ? { translationGaps: translationGaps.get(layer.class_name)! } : {}),
    };
    known.layers.push(name);
    if (retrace?.status === 'refused') known.retraceRefusals = { ...known.retraceRefusals, [name]: retrace.reason };
    if (graphRefused) known.graphRefusals = { ...known.graphRefusals, [name]: graphRefused };
    missing.set(key, known);
  }
  if (missing.size > 0) throw new UnregisteredLayerError([...missing.values()], source, fromFile);
}

/** The layers of a model and of the models used as its layers, depth first. */
function modelLayers(model: KerasObject): KerasObject[] {
  const layers = model.config['layers'];
  if (!Array.isArray(layers)) return [];
  return layers.filter(isKerasObject).flatMap((layer) => [layer, ...modelLayers(layer)]);
}

/** The fields a layer's get_config() adds to Keras's base ones, with the value this layer has. */
function ownFields(config: Record<string, unknown>): Record<string, unknown> {
  const base = kerasBaseLayerConfigSchema.shape;
  return Object.fromEntries(Object.entries(config).filter(([field]) => !(field in base)));
}
