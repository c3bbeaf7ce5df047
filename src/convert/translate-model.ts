import { InputError, KerasBridgeError, UnsupportedLayerError } from '../errors.js';
import { isKerasObject, type KerasObject } from '../keras/keras-object.js';
import { recordedSubclass, refuseUnrecordedSubclassedModel } from '../keras/subclassed-model.js';
import { withCallArguments } from './call-arguments.js';
import { splitRepeatedInputs } from './repeated-inputs.js';
import type { ConversionReport, FieldNote, LayerConversion } from './conversion-report.js';
import { checkKerasNodes, ioKeys, maskOnlyLayers, TFJS_MODEL_NODE_OFFSET, translateFunctionalNodes, translateIoList } from './functional-graph.js';
import { translateLayer } from './translate-layer.js';
import type { TranslateOptions, TranslationContext } from './translation-context.js';
import type { TfjsLayerConfig } from './translator-registry.js';

/** A tfjs-layers model topology, as model.json's `modelTopology` holds it. */
export interface TfjsTopology {
  class_name: string;
  config: Record<string, unknown>;
  keras_version: string;
  backend: string;
}

export interface TranslatedModel {
  topology: TfjsTopology;
  report: Omit<ConversionReport, 'weights' | 'constraintWarnings'>;
}

type ModelTranslator = (model: KerasObject, source: string, options: TranslateOptions) => {
  config: Record<string, unknown>;
  layers: LayerConversion[];
  modelNotes: FieldNote[];
};

const MODEL_TRANSLATORS: Record<string, ModelTranslator> = {
  Sequential: translateSequential,
  Functional: translateFunctional,
  Model: translateFunctional,
};

/**
 * Translates a Keras 3 serialized model (config.json of a .keras file) to a tfjs topology. With
 * `options.failures`, a layer that cannot be translated is recorded there and left out instead of
 * stopping the translation (what `inspect` shows; the topology is then incomplete).
 */
export function translateModel(model: KerasObject, source: string, options: TranslateOptions = {}): TranslatedModel {
  const translate = Object.hasOwn(MODEL_TRANSLATORS, model.class_name) ? MODEL_TRANSLATORS[model.class_name] : undefined;
  if (!translate) {
    refuseUnrecordedSubclassedModel(model, source);
    throw new UnsupportedLayerError(
      `${source}: top-level class '${model.class_name}' is not a Sequential or functional model. A subclassed ` +
        `keras.Model has no graph in its config: export it with 'keras-bridge export', which records the graph of one ` +
        `built in __init__ (README, "Your own model").`,
    );
  }
  const { config, layers, modelNotes } = translate(model, source, options);
  const modelName = String(model.config['name'] ?? 'model');
  const subclassedModel = recordedSubclass(model);
  return {
    topology: {
      class_name: model.class_name === 'Sequential' ? 'Sequential' : 'Model',
      config,
      keras_version: 'tfjs-layers 4.22.0 (converted by keras-bridge)',
      backend: 'tensor_flow.js',
    },
    report: { source, model: modelName, kerasClass: model.class_name, ...(subclassedModel ? { subclassedModel } : {}), layers, modelNotes },
  };
}

export function isModelClass(layer: KerasObject): boolean {
  return layer.class_name in MODEL_TRANSLATORS;
}

/** A Sequential or functional model used as a layer of another model. */
export function translateNestedModel(layer: KerasObject, context: TranslationContext): TfjsLayerConfig {
  const path = [...(context.options.path ?? []), context.layerName];
  const { topology, report } = translateModel(layer, context.source, { ...context.options, path });
  context.nested.push(...report.layers);
  for (const note of report.modelNotes) context.notes.push(note);
  return { class_name: topology.class_name, config: topology.config };
}

function layerEntries(model: KerasObject, source: string): KerasObject[] {
  const layers = model.config['layers'];
  if (!Array.isArray(layers)) {
    throw new InputError(`${source}: model '${String(model.config['name'])}', field 'config.layers' is missing or not a list.`);
  }
  return layers.map((entry, i) => {
    if (!isKerasObject(entry)) {
      throw new InputError(`${source}: model config field 'config.layers[${i}]' is not a Keras serialized layer ({class_name, config}).`);
    }
    return entry;
  });
}

/** Model-level fields tfjs has no use for; listed so that the report names them. */
function noteModelFields(model: KerasObject, used: string[]): FieldNote[] {
  return Object.keys(model.config)
    .filter((field) => !used.includes(field))
    .map((field) => ({ field, action: 'dropped' as const, reason: 'model-level field tfjs-layers does not read', from: model.config[field] }));
}

/** `translate()`, or, with `options.failures`, undefined after recording why the layer cannot be converted. */
function attempt<T>(entry: KerasObject, options: TranslateOptions, translate: () => T): T | undefined {
  if (!options.failures) return translate();
  try {
    return translate();
  } catch (e) {
    if (!(e instanceof KerasBridgeError)) throw e;
    const name = String(entry['name'] ?? entry.config['name'] ?? '(unnamed)');
    options.failures.push({ path: options.path ?? [], name, kerasClass: entry.class_name, module: entry.module ?? null, error: e });
    return undefined;
  }
}

function translateSequential(model: KerasObject, source: string, options: TranslateOptions) {
  const translated = layerEntries(model, source).flatMap((entry) => attempt(entry, options, () => translateLayer(entry, source, options)) ?? []);
  const layers = translated.map((t) => t.tfjs);
  const first = layers[0];
  const buildShape = model.config['build_input_shape'];
  const modelNotes = noteModelFields(model, ['name', 'layers']);
  // An unbuilt first layer needs the input shape Keras recorded on the model.
  if (first && first.class_name !== 'InputLayer' && Array.isArray(buildShape)) {
    first.config['batch_input_shape'] = buildShape;
    modelNotes.push({ field: 'build_input_shape', action: 'changed', reason: 'moved onto the first layer as batch_input_shape', from: buildShape });
  }
  return {
    config: { name: model.config['name'], layers },
    layers: translated.map((t) => t.conversion),
    modelNotes,
  };
}

function translateFunctional(model: KerasObject, source: string, options: TranslateOptions) {
  checkKerasNodes(layerEntries(model, source), source);
  const maskOnly = maskOnlyLayers(layerEntries(model, source), model.config['output_layers']);
  const entries = layerEntries(model, source).filter((e) => !maskOnly.has(String(e['name'] ?? e.config['name'])));
  const maskNotes: FieldNote[] = [...maskOnly].map((name) => ({
    field: `layers['${name}']`,
    action: 'dropped' as const,
    reason: 'only computes a mask passed as a mask keyword argument; tfjs-layers propagates masks itself',
  }));
  // A re-traced custom layer converts to a nested model too, whose first call tfjs counts as node 1;
  // which layers did is known once each is translated (a re-trace may fall to the graph fallback),
  // and a layer is only referenced by those after it.
  const models = new Set(entries.filter((e) => isModelClass(e)).map((e) => String(e['name'] ?? e.config['name'])));
  const nodeOffset = (name: string) => (models.has(name) ? TFJS_MODEL_NODE_OFFSET : 0);
  const conversions: LayerConversion[] = [];
  const layers = entries.flatMap(
    (entry) =>
      attempt(entry, options, () => {
        const { tfjs, conversion } = translateLayer(entry, source, options);
        const name = String(entry['name'] ?? entry.config['name']);
        if (conversion.mapping === 'retrace') models.add(name);
        const graph = translateFunctionalNodes(entry['inbound_nodes'], source, name, conversion.notes, nodeOffset, maskOnly);
        const layer = withCallArguments(tfjs, conversion, graph.tensorKwargs, graph.positionalArguments, source);
        const { nodes, copies } = splitRepeatedInputs(name, graph.nodes, conversion.notes);
        conversions.push(conversion);
        return [...copies, { ...layer, name, inbound_nodes: nodes }];
      }) ?? [],
  );
  return {
    config: {
      name: model.config['name'],
      layers,
      input_layers: translateIoList(model.config['input_layers'], source, 'input_layers', nodeOffset),
      output_layers: translateIoList(model.config['output_layers'], source, 'output_layers', nodeOffset),
    },
    layers: conversions,
    modelNotes: [...noteModelFields(model, ['name', 'layers', 'input_layers', 'output_layers']), ...maskNotes, ...dictNotes(model)],
  };
}

/** A dict of inputs or outputs becomes a list: the note says in which order, so that callers feed and read them by name. */
function dictNotes(model: KerasObject): FieldNote[] {
  return (['input_layers', 'output_layers'] as const).flatMap((field) => {
    const keys = ioKeys(model.config[field]);
    return keys
      ? [{ field, action: 'changed' as const, reason: `a dict in Keras; tfjs-layers takes a list, in Keras's flattened order (keys sorted): ${keys.join(', ')}` }]
      : [];
  });
}
