import { UnsupportedLayerError } from '../errors.js';
import type { BundleManifest, RetraceRecord } from '../keras/bundle-manifest.js';
import { isBuiltinKerasModule, type KerasObject } from '../keras/keras-object.js';
import type { KerasLayerWeightSpec } from '../layers/operations/keras-layer-weights.js';
import '../layers/operations/keras-layer-weights.js';
import { translateModel } from './translate-model.js';
import type { TranslationContext } from './translation-context.js';
import type { TfjsLayerConfig } from './translator-registry.js';

export type TracedLayer = Extract<RetraceRecord, { status: 'traced' }>;

/** The re-trace recorded for a custom layer (whether it is used is custom-layer-route.ts's decision). */
export function tracedLayer(layer: KerasObject, layerName: string, retraces: ReadonlyMap<string, RetraceRecord> | undefined): TracedLayer | undefined {
  if (isBuiltinKerasModule(layer.module)) return undefined;
  const record = retraces?.get(layerName);
  return record?.status === 'traced' ? record : undefined;
}

/** The bundle's re-traces (route 2, docs/custom-layer-routes.md), by layer name. */
export function retracesFromManifest(manifest: BundleManifest | undefined): Map<string, RetraceRecord> {
  return new Map((manifest?.custom_layers ?? []).flatMap((c) => c.retraces ?? []).map((r) => [r.layer, r]));
}

const WEIGHT_REF = '__keras_bridge_weight__';
const TFJS_DTYPES = new Set(['float32', 'int32', 'bool']);

/**
 * A custom layer with no registered TypeScript class but a recorded re-trace becomes a nested tfjs
 * model named as the layer: its traced graph of Keras layers and operations, translated like any
 * functional model, plus one KerasLayerWeights node holding the layer's own weights. Nested rather
 * than inlined, so that the layer keeps its name: parity compares its output and runs it alone
 * (layer-isolated mode) as it does any layer, and its weights stay grouped under it as in the
 * bundle. Sub-layer nodes are renamed to their weights' Keras path (`block/dense`) and the weights
 * node to the layer's own (`block`), so that tfjs names every weight by its Keras path and
 * weight-plan.ts pairs them by name.
 */
export function translateRetracedLayer(layer: KerasObject, context: TranslationContext, trace: TracedLayer): TfjsLayerConfig {
  const config = structuredClone(trace.config) as { name?: string; layers: Array<Record<string, unknown>>; input_layers: unknown; output_layers: unknown };
  const renames = new Map(Object.entries(trace.layer_paths));
  const ownPath = weightsNodeName(trace, context);
  const weightIndex = new Map(trace.own_weights.map((w, i) => [w.path, i]));
  const rename = (name: string) => renames.get(name) ?? name;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (typeof value !== 'object' || value === null) return value;
    const object = value as { class_name?: string; config?: Record<string, unknown> };
    if (object.class_name === WEIGHT_REF) {
      const path = String(object.config?.['path']);
      const index = weightIndex.get(path);
      if (index === undefined || ownPath === undefined) {
        throw new UnsupportedLayerError(`${context.where('retraces')}: the trace references weight '${path}', which is not among the layer's own weights.`);
      }
      return { class_name: '__keras_tensor__', config: { keras_history: [ownPath, 0, index] } };
    }
    if (object.class_name === '__keras_tensor__') {
      const [name, node, tensor] = object.config!['keras_history'] as [string, number, number];
      return { ...object, config: { ...object.config, keras_history: [rename(name), node, tensor] } };
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v)]));
  };
  for (const entry of config.layers) {
    const name = String(entry['name']);
    entry['inbound_nodes'] = rewrite(entry['inbound_nodes']);
    if (renames.has(name)) {
      entry['name'] = rename(name);
      entry['config'] = { ...(entry['config'] as Record<string, unknown>), name: rename(name) };
    }
  }
  const renameIo = (io: unknown): unknown => (Array.isArray(io) && typeof io[0] === 'string' ? [rename(io[0]), ...io.slice(1)] : Array.isArray(io) ? io.map(renameIo) : io);
  const nested: KerasObject = {
    class_name: 'Functional',
    module: 'keras.src.models.functional',
    config: { ...config, name: context.layerName, input_layers: renameIo(config.input_layers), output_layers: renameIo(config.output_layers) },
  };
  const path = [...(context.options.path ?? []), context.layerName];
  const { topology, report } = translateModel(nested, `${context.source} (re-trace of '${context.layerName}')`, { ...context.options, path });
  context.nested.push(...report.layers);
  const tfjsConfig = topology.config as { layers: Array<Record<string, unknown>>; input_layers: Array<[string, number, number]> };
  if (ownPath !== undefined) {
    const firstInput = tfjsConfig.input_layers[0]![0];
    const inputs = tfjsConfig.layers.filter((l) => l['class_name'] === 'InputLayer').length;
    tfjsConfig.layers.splice(inputs, 0, {
      class_name: 'KerasLayerWeights',
      name: ownPath,
      config: { name: ownPath, weights: trace.own_weights.map((w) => weightSpec(w, context)) },
      inbound_nodes: [[[firstInput, 0, 0, {}]]],
    });
  }
  context.changed('(call)', layer.class_name, 'nested tfjs model', 'no TypeScript implementation registered; converted from the symbolic re-trace of its call() recorded in the bundle (generated by symbolic re-trace)');
  return { class_name: topology.class_name, config: topology.config };
}

/** The Keras path the layer's own weights lie under; they must share one. */
function weightsNodeName(trace: TracedLayer, context: TranslationContext): string | undefined {
  const prefixes = new Set(trace.own_weights.map((w) => w.path.slice(0, w.path.lastIndexOf('/'))));
  if (prefixes.size > 1) {
    throw new UnsupportedLayerError(`${context.where('retraces')}: the layer's own weights lie under several paths (${[...prefixes].join(', ')}).`);
  }
  return [...prefixes][0];
}

function weightSpec(weight: TracedLayer['own_weights'][number], context: TranslationContext): KerasLayerWeightSpec {
  if (!TFJS_DTYPES.has(weight.dtype)) {
    throw new UnsupportedLayerError(`${context.where('retraces')}: weight '${weight.path}' is ${weight.dtype}; tfjs weights are float32, int32 or bool.`);
  }
  return {
    name: weight.path.slice(weight.path.lastIndexOf('/') + 1),
    shape: weight.shape.map(Number),
    dtype: weight.dtype as KerasLayerWeightSpec['dtype'],
    trainable: weight.trainable,
  };
}
