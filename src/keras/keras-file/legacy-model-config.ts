import { InputError } from '../../errors.js';
import { isKerasObject, type KerasObject } from '../keras-object.js';
import { KERAS_LAYER_CLASSES, KERAS_MODEL_CLASSES } from './keras-layer-classes.js';

/**
 * A legacy `.h5` file's `model_config` in the Keras 3 serialized form the converter reads.
 *
 * Legacy configs (Keras 2's, and those Keras 3 writes to .h5) have no `module`, so built-in and
 * custom classes are told apart by name (KERAS_LAYER_CLASSES); a registered custom class's
 * `package>Name` becomes Keras 3's class_name + registered_name. Keras 2 additionally writes
 * inbound nodes as lists of `[layer, node, tensor, kwargs]` and counts a nested model's own
 * inputs-to-outputs graph as its node 0; both are rewritten. Keras 2's `batch_input_shape` on
 * InputLayer is read by the InputLayer translator as is; on the first layer of a Sequential that
 * has no InputLayer it becomes one, as Keras 3 does when it loads such a file.
 */
export function modelConfigFromLegacy(raw: unknown, file: string): KerasObject {
  if (!isKerasObject(raw)) {
    throw new InputError(`${file}: attribute 'model_config' is not a Keras model config ({class_name, config}).`);
  }
  if (!KERAS_MODEL_CLASSES.has(raw.class_name)) {
    throw new InputError(`${file}: attribute 'model_config' holds a '${raw.class_name}', not a Sequential or functional model.`);
  }
  return layerFromLegacy(raw, file, 'model_config');
}

function layerFromLegacy(entry: KerasObject, file: string, where: string): KerasObject {
  const [className, registeredName] = splitRegisteredName(entry.class_name);
  const isModel = KERAS_MODEL_CLASSES.has(className);
  const module = isModel ? 'keras' : KERAS_LAYER_CLASSES.has(className) ? 'keras.layers' : null;
  const config = isModel ? modelFieldsFromLegacy(entry.class_name, entry.config, file, where) : entry.config;
  return {
    ...entry,
    module: entry.module ?? module,
    class_name: className,
    registered_name: entry.registered_name ?? (module === null ? registeredName ?? className : null),
    config,
  };
}

/** Keras 2 writes a registered custom class as `package>Name`. */
function splitRegisteredName(className: string): [string, string | null] {
  const cut = className.lastIndexOf('>');
  return cut < 0 ? [className, null] : [className.slice(cut + 1), className];
}

function modelFieldsFromLegacy(className: string, raw: unknown, file: string, where: string): Record<string, unknown> {
  // Keras 2.0-2.2 wrote a Sequential's config as the bare list of its layers.
  const config = (Array.isArray(raw) ? { layers: raw } : raw) as Record<string, unknown>;
  const entries = config['layers'];
  if (!Array.isArray(entries)) throw new InputError(`${file}: ${where}, field 'config.layers' is missing or not a list.`);
  const layers = entries.map((entry, i) => {
    if (!isKerasObject(entry)) throw new InputError(`${file}: ${where}, field 'config.layers[${i}]' is not a Keras layer config ({class_name, config}).`);
    return layerFromLegacy(entry, file, `${where}, layer '${String(entry.config['name'] ?? i)}'`);
  });
  if (className === 'Sequential') return { ...config, layers: withInputLayer(layers) };
  const models = new Set(layers.filter((l) => KERAS_MODEL_CLASSES.has(l.class_name)).map((l) => String(l['name'] ?? l.config['name'])));
  // Only Keras 2 writes list-form nodes, and only Keras 2 numbers a nested model's calls from 1.
  const keras2 = layers.some((layer) => Array.isArray(layer['inbound_nodes']) && layer['inbound_nodes'].some(Array.isArray));
  const toKeras3Node = (name: string, node: number): number => (keras2 && models.has(name) ? node - 1 : node);
  return {
    ...config,
    layers: layers.map((layer) => ({ ...layer, inbound_nodes: nodesFromLegacy(layer['inbound_nodes'], toKeras3Node) })),
    input_layers: ioListFromLegacy(config['input_layers'], toKeras3Node),
    output_layers: ioListFromLegacy(config['output_layers'], toKeras3Node),
  };
}

function withInputLayer(layers: KerasObject[]): KerasObject[] {
  const first = layers[0];
  const shape = first?.config['batch_input_shape'];
  if (!first || first.class_name === 'InputLayer' || !Array.isArray(shape)) return layers;
  const input: KerasObject = {
    module: 'keras.layers',
    class_name: 'InputLayer',
    registered_name: null,
    config: { batch_shape: shape, dtype: first.config['dtype'] ?? 'float32', name: `${String(first.config['name'])}_input` },
  };
  return [input, ...layers];
}

type LegacyTensorRef = [string, number, number, Record<string, unknown>?];

function isLegacyTensorRef(value: unknown): value is LegacyTensorRef {
  return Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'number' && typeof value[2] === 'number';
}

/** `[[layer, node, tensor, kwargs], …]` per node → Keras 3's `{args, kwargs}`; Keras 3 nodes pass as they are. */
function nodesFromLegacy(nodes: unknown, toKeras3Node: (name: string, node: number) => number): unknown {
  if (!Array.isArray(nodes)) return nodes;
  return nodes.map((node) => {
    if (!Array.isArray(node) || !node.every(isLegacyTensorRef)) return node;
    const tensors = node.map(([name, nodeIndex, tensorIndex]) => ({
      class_name: '__keras_tensor__',
      config: { keras_history: [name, toKeras3Node(name, nodeIndex), tensorIndex] },
    }));
    return { args: tensors.length === 1 ? tensors : [tensors], kwargs: node[0]?.[3] ?? {} };
  });
}

function ioListFromLegacy(value: unknown, toKeras3Node: (name: string, node: number) => number): unknown {
  if (!Array.isArray(value)) return value;
  if (isLegacyTensorRef(value)) return [value[0], toKeras3Node(value[0], value[1]), value[2]];
  return value.map((ref) => (isLegacyTensorRef(ref) ? [ref[0], toKeras3Node(ref[0], ref[1]), ref[2]] : ref));
}
