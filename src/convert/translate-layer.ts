import { UnsupportedLayerError } from '../errors.js';
import { isBuiltinKerasModule, type KerasObject } from '../keras/keras-object.js';
import { entryName } from '../keras/layer-names.js';
import { recordedSubclass } from '../keras/subclassed-model.js';
import type { LayerConversion } from './conversion-report.js';
import { translateCustomLayer } from './custom-layer-translation.js';
import { usableCustomLayer } from '../registry/custom-layer-registry.js';
import { customLayerRoute } from './custom-layer-route.js';
import { translateGraphLayer } from './graph-fallback-translation.js';
import { translateRetracedLayer } from './retrace-translation.js';
import { isOperationNode, translateOperation } from './operation-translation.js';
import { isModelClass, translateNestedModel } from './translate-model.js';
import { TranslationContext, type TranslateOptions } from './translation-context.js';
import { unsupportedReason } from './unsupported-layers.js';
import { findTranslator, type TfjsLayerConfig } from './translator-registry.js';
import './translators/index.js';

/** Keras classes that carry Python code in their config; we never execute code from a model file. */
const CODE_CARRYING_CLASSES = new Set(['Lambda', 'TFOpLambda']);

export function translateLayer(
  entry: KerasObject,
  source: string,
  options: TranslateOptions = {},
): { tfjs: TfjsLayerConfig; conversion: LayerConversion } {
  const layerName = entryName(entry) ?? '(unnamed)';
  const context = new TranslationContext(source, layerName, options);
  const layer = withConfigName(entry, context);
  if (CODE_CARRYING_CLASSES.has(layer.class_name)) {
    throw new UnsupportedLayerError(
      `${context.where()}: ${layer.class_name} layers hold serialized Python code, which keras-bridge never ` +
        `executes (as Keras 3's safe mode refuses it). Rewrite it as a custom Layer subclass with get_config(), ` +
        `then register a TypeScript implementation with registerLayer().`,
    );
  }
  const custom = !isBuiltinKerasModule(layer.module);
  let route = customLayerRoute(layer, layerName, options);
  // A class keras-bridge generated from the layer's Python source (route 1) is registered like a hand-written one.
  const generated = custom && usableCustomLayer(layer.class_name, layer.registered_name, options.translatedClasses)?.origin === 'translated';
  let mapping: LayerConversion['mapping'] = route ? route.route : generated ? 'translated' : custom ? 'custom' : isOperationNode(layer) ? 'operation' : isModelClass(layer) ? 'model' : 'tfjs';
  // A re-trace holding an operation keras-bridge does not convert falls to the graph, when there is one.
  const graphAfter = route?.route === 'retrace' ? customLayerRoute(layer, layerName, { ...options, retraces: undefined }) : undefined;
  if (route?.route === 'retrace' && graphAfter?.route === 'graph') {
    try {
      const attempt = new TranslationContext(source, layerName, options);
      attempt.notes.push(...context.notes);
      return finish(layer, attempt, 'retrace', translateRetracedLayer(layer, attempt, route.trace));
    } catch (e) {
      if (!(e instanceof UnsupportedLayerError)) throw e;
      context.changed('(call)', 'symbolic re-trace', 'graph fallback', `the re-trace could not be converted (${e.message.split('\n')[0]!.replace(/ \(supported: .*$/, '')}); the graph fallback was used instead`);
      route = graphAfter;
      mapping = 'graph';
    }
  }
  const translator = {
    retrace: (l: KerasObject, c: TranslationContext) => translateRetracedLayer(l, c, (route as Extract<typeof route, { route: 'retrace' }>).trace),
    graph: (l: KerasObject, c: TranslationContext) => translateGraphLayer(l, c, (route as Extract<typeof route, { route: 'graph' }>).graph),
    custom: translateCustomLayer,
    translated: translateCustomLayer,
    operation: (l: KerasObject, c: TranslationContext) => translateOperation(l, c, firstNodeArguments(l)),
    model: translateNestedModel,
    tfjs: findTranslator(layer.class_name, layer.module),
  }[mapping];
  if (!translator) {
    const reason = unsupportedReason(layer.class_name) ?? 'not supported by the converter yet';
    throw new UnsupportedLayerError(`${context.where()}: Keras layer class '${layer.class_name}': ${reason} (see docs/layers.md).`);
  }
  return finish(layer, context, mapping, translator(layer, context));
}

function finish(layer: KerasObject, context: TranslationContext, mapping: LayerConversion['mapping'], tfjs: TfjsLayerConfig): { tfjs: TfjsLayerConfig; conversion: LayerConversion } {
  const layerName = context.layerName;
  const subclassedModel = mapping === 'model' ? recordedSubclass(layer) : undefined;
  return {
    tfjs,
    conversion: {
      name: layerName,
      kerasClass: layer.class_name,
      tfjsClass: tfjs.class_name,
      mapping,
      ...(subclassedModel ? { subclassedModel } : {}),
      notes: context.notes,
      ...(context.nested.length > 0 ? { layers: context.nested } : {}),
    },
  };
}

/**
 * A config without `name` (Keras's automatic config of a layer whose __init__ takes `**kw`, see
 * keras/layer-names.ts) takes the entry's name: tfjs would otherwise make one up
 * (`masked_mean_pool_MaskedMeanPool1`), and weights and goldens are found by the Keras name.
 */
function withConfigName(entry: KerasObject, context: TranslationContext): KerasObject {
  if (typeof entry.config['name'] === 'string' || entryName(entry) === undefined) return entry;
  context.added('name', context.layerName, "the layer's config has no name (Keras's automatic get_config() leaves it out when __init__ takes **kw, not **kwargs); taken from the model's layer list");
  return { ...entry, config: { ...entry.config, name: context.layerName } };
}

/** Positional arguments of a functional node's first call (operation nodes are called once). */
function firstNodeArguments(layer: KerasObject): unknown[] {
  const nodes = layer['inbound_nodes'];
  const first = Array.isArray(nodes) ? (nodes[0] as { args?: unknown } | undefined) : undefined;
  return Array.isArray(first?.args) ? first.args : [];
}
