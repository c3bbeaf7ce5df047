import { modelLayerItems } from './keras-file/saved-object-names.js';
import type { KerasObject } from './keras-object.js';

/**
 * The name of a layer entry of a model config: its config's `name`, else the entry's own `name`
 * (a functional model writes it beside `config`), else undefined.
 */
export function entryName(entry: KerasObject): string | undefined {
  const name = entry.config['name'] ?? entry['name'];
  return typeof name === 'string' ? name : undefined;
}

/**
 * Keras's automatic get_config() (a layer with no get_config of its own) leaves `name` out when
 * the layer's __init__ takes `**kw` rather than `**kwargs` (keras/src/ops/operation.py keeps the
 * base fields only for a varkw literally called "kwargs"). A functional model's layer entry still
 * has the name beside `config`; a Sequential's does not, so its names come from elsewhere: the
 * bundle manifest's layer list, or the `vars` name tags of a .keras file's weights.
 *
 * Returns a copy of `model` whose `config.layers` entries without any name get `name` beside their
 * config from `names`, given in `model.layers` order (modelLayerItems: a Sequential's InputLayer
 * left out), where the class there is the entry's class. The config itself is left as Keras wrote
 * it: translateLayer notes the name it takes from the entry.
 */
export function withLayerNames(model: KerasObject, names: readonly ({ name: string; className: string } | undefined)[]): KerasObject {
  const items = modelLayerItems(model);
  const layers = model.config['layers'];
  if (!Array.isArray(layers)) return model;
  const named = layers.map((entry: unknown) => {
    const position = items.indexOf(entry);
    const known = position >= 0 ? names[position] : undefined;
    const layer = entry as KerasObject;
    if (!known || typeof layer?.config !== 'object' || entryName(layer) !== undefined || known.className !== layer.class_name) return entry;
    return { ...layer, name: known.name };
  });
  return { ...model, config: { ...model.config, layers: named } };
}
