import { operationName } from '../../layers/operations/operation-registry.js';
import { isKerasObject, type KerasObject } from '../keras-object.js';

/**
 * How Keras 3 names the h5 group of each object it saves in model.weights.h5: the rules of
 * keras/src/saving/saving_lib.py (Keras 3.15: `_save_state`, `_walk_saveable`,
 * `_save_container_state`, `_get_unique_name`), followed here instead of guessed from the file.
 *
 * - Keras walks from the model (path ''), writing each object's own variables under
 *   `<path>/vars` (tagged with the object's `name`), then its children:
 *   - a Sequential or Functional model first yields its `layers` attribute, which is
 *     `model.layers`: for a Functional, the config's `layers` less the operations (`x + y`,
 *     `keras.ops.*` on symbolic tensors are Operations, not Layers, and are not saved); for a
 *     Sequential, the config's `layers` less the leading InputLayer;
 *   - then every attribute, sorted by name with private (`_x`) ones last: an object held in an
 *     attribute goes under `<path>/<attribute>`, a list, tuple or dict (its values) under
 *     `<path>/<attribute>` as a container.
 * - In a container, each saved object is named after its *class*, not its name:
 *   `to_snake_case(type(obj).__name__)` (see snakeCase), and a repeat of a name already given
 *   in that container gets `_1`, `_2`, … (`dense`, `dense_1`, `dense_2`); a nested list, tuple or
 *   dict is named `container`, `container_1`, … from the same counter. Anything else in the list
 *   (numbers, strings, operations) gets no name and takes no number.
 * - An object already saved under an earlier path is not saved again, but in a container it
 *   still takes its name and number.
 *
 * `containerKeys` gives the names of a container's items from their configs; a config's
 * `class_name` is `type(obj).__name__` (keras.saving.serialize_keras_object).
 */
export function containerKeys(items: readonly unknown[]): (string | undefined)[] {
  const used = new Map<string, number>();
  return items.map((item) => {
    if (Array.isArray(item)) return uniqueName('container', used);
    if (!isKerasObject(item) || isOperation(item)) return undefined;
    return uniqueName(snakeCase(item.class_name), used);
  });
}

/**
 * The configs of `model.layers` in order: the items of the model's `layers` container (see
 * containerKeys), from its config's `layers`.
 */
export function modelLayerItems(model: KerasObject): unknown[] {
  const layers = Array.isArray(model.config['layers']) ? (model.config['layers'] as unknown[]) : [];
  if (model.class_name === 'Sequential') {
    return layers.filter((l, i) => !(i === 0 && isKerasObject(l) && l.class_name === 'InputLayer'));
  }
  return layers.filter((l) => !(isKerasObject(l) && isOperation(l)));
}

/** A Keras Operation in a functional config (module `keras.src.ops.numpy`, …): never saved. */
function isOperation(item: KerasObject): boolean {
  return operationName(item.module, item.class_name) !== undefined;
}

/** saving_lib's `_get_unique_name`: the first `dense`, then `dense_1`, `dense_2`, …. */
function uniqueName(base: string, used: Map<string, number>): string {
  const count = used.get(base);
  used.set(base, count === undefined ? 0 : count + 1);
  return count === undefined ? base : `${base}_${count + 1}`;
}

/** Keras's `naming.to_snake_case`: `MultiHeadAttention` → `multi_head_attention`, `LSTM` → `lstm`. */
export function snakeCase(className: string): string {
  return className
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}
