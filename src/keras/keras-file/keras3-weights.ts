import { storedByteLength } from '../../convert/weight-values.js';
import { InputError } from '../../errors.js';
import { isKerasObject, type KerasObject } from '../keras-object.js';
import { attributeValue, childGroup, childObject, groupKeys, holdsDatasets, isDataset, tensorInfo, type Group } from './hdf5-file.js';
import type { StoredWeight } from './hdf5-tasks.js';
import { containerKeys, modelLayerItems } from './saved-object-names.js';
import { sublayerSlots, type SublayerSlot } from './sublayer-order.js';

/**
 * The weights in a Keras 3 model.weights.h5, as StoredWeights of the model's layers (their values
 * are read later, by dataset path).
 *
 * Keras 3 (keras/src/saving/saving_lib.py) walks the model and writes each object's own variables
 * as datasets `vars/0`, `vars/1`, … of a group named by where the object sits, not by its name
 * (saved-object-names.ts has the rules): the model's layers under `layers/<key>`, a layer's
 * sub-layers under the attribute that holds them (`cell`, `forward_layer`, …), lists of layers as
 * containers like `layers/`; the optimizer under `optimizer/`, which is ignored here, as are groups
 * without datasets. Recent Keras also tags each `vars` group with the object's name, which is
 * checked when present.
 */
export function weightsFromKeras3H5(root: Group, modelConfig: KerasObject, source: string): StoredWeight[] {
  const modelName = String(modelConfig.config['name'] ?? 'model');
  const weights: StoredWeight[] = ownVariables(root, '', source).map((v, index) => ({ ...v, layer: modelName, index }));
  const layersGroup = childGroup(root, 'layers');
  const layers = itemConfigs(modelLayerItems(modelConfig), source, `model '${modelName}'`);
  for (const { key, config } of containerItems(layersGroup, layers, source, 'layers')) {
    const layerName = nameOf(config);
    const group = layersGroup && childGroup(layersGroup, key);
    if (!group) continue;
    checkVarsName(group, layerName, `layers/${key}`, source);
    layerVariables(group, config, `layers/${key}`, source).forEach((v, index) => {
      weights.push({ ...v, layer: layerName, index, name: v.path.slice(`layers/${key}/`.length) });
    });
  }
  return weights;
}

/**
 * The name Keras tagged each of the model's layers' `vars` group with, in `model.layers` order
 * (undefined where the file has no tag): for layers whose config has no name (layer-names.ts).
 */
export function layerNameTags(root: Group, modelConfig: KerasObject, source: string): ({ name: string; className: string } | undefined)[] {
  const layersGroup = childGroup(root, 'layers');
  const layers = itemConfigs(modelLayerItems(modelConfig), source, `model '${String(modelConfig.config['name'] ?? 'model')}'`);
  return containerItems(layersGroup, layers, source, 'layers').map(({ key, config }) => {
    const group = layersGroup && childGroup(layersGroup, key);
    const vars = group && childGroup(group, 'vars');
    const tag = vars && attributeValue(vars, 'name');
    return typeof tag === 'string' ? { name: tag, className: config.class_name } : undefined;
  });
}

type Variable = Omit<StoredWeight, 'layer' | 'index'>;

/** A layer's variables in `layer.weights` order: its own, then its sub-layers'. */
function layerVariables(group: Group, layer: KerasObject | undefined, path: string, source: string): Variable[] {
  const variables = ownVariables(group, path, source);
  const children = groupKeys(group)
    .filter((key) => key !== 'vars')
    .filter((key) => {
      const child = childGroup(group, key);
      return child !== undefined && holdsDatasets(child);
    });
  if (children.length === 0) return variables;
  const slots = layer ? sublayerSlots(layer.class_name) : undefined;
  if (slots) return [...variables, ...slotVariables(group, layer!, slots, children, path, source)];
  // One sub-layer, or one class's list: their order is known, unless something inside them has
  // none, in which case the whole layer's variables go by owner (with this layer's name first).
  const order = children.length === 1 ? children : homogeneousContainerOrder(children);
  if (order) {
    const inner = order.flatMap((key) => layerVariables(childGroup(group, key)!, undefined, `${path}/${key}`, source));
    if (!inner.some((v) => v.owner)) return [...variables, ...inner];
  }
  return ownedVariables(group, layer, path, source);
}

/**
 * A layer whose sub-layers' order is not known (a custom layer holding Dense, LayerNormalization,
 * … as attributes): Keras's `layer.weights` order (own variables, then sub-layers in the order they
 * were assigned) is not in the file, whose groups are sorted by attribute name. Each variable is
 * returned with its owner instead: the Keras name path of the object that holds it (`block`,
 * `block/proj`; names from each `vars` group's `name` tag, else the attribute) and its position
 * among that object's variables (trainable, then non-trainable, as in tfjs). The converter pairs
 * them with the tfjs weights `<owner>/<weight>` (weight-pairing.ts, `positionsByOwner`). A list of
 * sub-layers adds nothing to the path: Keras names variables by the objects holding them
 * (`stack/up/kernel`), not by the attribute holding the list (`blocks`).
 */
function ownedVariables(group: Group, layer: KerasObject | undefined, path: string, source: string): Variable[] {
  // A group without `vars` is a list (a container), not an object: it adds nothing to the path.
  const ownerName = (g: Group, fallback: string): string | undefined => {
    const vars = childGroup(g, 'vars');
    if (!vars) return undefined;
    const tag = attributeValue(vars, 'name');
    return typeof tag === 'string' ? tag : fallback;
  };
  const layerName = layer ? nameOf(layer) : path.split('/').pop()!;
  const root = ownerName(group, layerName) ?? layerName;
  const variables: Variable[] = ownVariables(group, path, source).map((v, position) => ({ ...v, owner: { path: root, position } }));
  const visit = (g: Group, gPath: string, ownerPath: string): void => {
    for (const key of groupKeys(g).filter((k) => k !== 'vars')) {
      const child = childGroup(g, key);
      if (!child || !holdsDatasets(child)) continue;
      const childPath = `${gPath}/${key}`;
      const childName = ownerName(child, key);
      const childOwner = childName === undefined ? ownerPath : `${ownerPath}/${childName}`;
      ownVariables(child, childPath, source).forEach((v, position) => variables.push({ ...v, owner: { path: childOwner, position } }));
      visit(child, childPath, childOwner);
    }
  };
  visit(group, path, root);
  return variables;
}

function slotVariables(
  group: Group,
  layer: KerasObject,
  slots: readonly SublayerSlot[],
  children: readonly string[],
  path: string,
  source: string,
): Variable[] {
  const unknown = children.filter((key) => !slots.some((slot) => slot.attribute === key));
  if (unknown.length > 0) {
    throw new InputError(
      `${source}: model.weights.h5 group '${path}/${unknown[0]}' holds variables, but a Keras ${layer.class_name} ` +
        `keeps none there (expected: ${slots.map((s) => s.attribute).join(', ')}). Was the file saved by this model's Keras class?`,
    );
  }
  const variables: Variable[] = [];
  for (const slot of slots) {
    const slotGroup = childGroup(group, slot.attribute);
    if (!slotGroup) continue;
    const slotPath = `${path}/${slot.attribute}`;
    if (!slot.items) {
      const config = slot.config?.(layer);
      variables.push(...layerVariables(slotGroup, isKerasObject(config) ? config : undefined, slotPath, source));
      continue;
    }
    const items = itemConfigs(slot.items(layer), source, `layer '${nameOf(layer)}', field '${slot.attribute}'`);
    for (const { key, config } of containerItems(slotGroup, items, source, slotPath)) {
      const itemGroup = childGroup(slotGroup, key);
      if (itemGroup) variables.push(...layerVariables(itemGroup, config, `${slotPath}/${key}`, source));
    }
  }
  return variables;
}

/** `vars/0`, `vars/1`, … of one object, in index order (h5 lists them as text: 0, 1, 10, 2, …). */
function ownVariables(group: Group, path: string, source: string): Variable[] {
  const vars = childGroup(group, 'vars');
  if (!vars) return [];
  const varsPath = path ? `${path}/vars` : 'vars';
  const keys = groupKeys(vars);
  const indices = keys.map(Number).sort((a, b) => a - b);
  if (indices.some((n, i) => n !== i)) {
    throw new InputError(`${source}: model.weights.h5 group '${varsPath}' should hold datasets 0..${keys.length - 1}, but holds ${keys.join(', ')}.`);
  }
  return indices.map((i) => {
    const dataset = childObject(vars, String(i));
    const datasetPath = `${varsPath}/${i}`;
    if (!isDataset(dataset)) throw new InputError(`${source}: model.weights.h5 '${datasetPath}' is not a dataset.`);
    const info = tensorInfo(dataset, `${source}: model.weights.h5 '${datasetPath}'`);
    return { name: datasetPath, path: datasetPath, ...info, byteLength: storedByteLength(info.shape, info.dtype) };
  });
}

interface ContainerItem {
  key: string;
  config: KerasObject;
}

/**
 * Pairs a list of layer configs with the groups Keras wrote for them (containerKeys), and checks
 * that no group with variables is left over (weights the config has no layer for).
 */
function containerItems(container: Group | undefined, items: readonly KerasObject[], source: string, path: string): ContainerItem[] {
  const keyOf = containerKeys(items);
  const paired = items.flatMap((config, i) => (keyOf[i] === undefined ? [] : [{ key: keyOf[i]!, config }]));
  const keys = new Set(paired.map((p) => p.key));
  const orphan = container && groupKeys(container).find((key) => !keys.has(key) && holdsDatasets(childGroup(container, key) ?? container));
  if (orphan !== undefined) {
    throw new InputError(
      `${source}: model.weights.h5 group '${path}/${orphan}' holds variables that no layer in config.json accounts for ` +
        `(expected groups: ${[...keys].join(', ') || 'none'}). config.json and model.weights.h5 are from different models.`,
    );
  }
  return paired;
}

function itemConfigs(items: readonly unknown[], source: string, where: string): KerasObject[] {
  return items.map((item, i) => {
    if (!isKerasObject(item)) throw new InputError(`${source}: config.json: ${where}, item ${i} is not a Keras serialized layer ({class_name, config}).`);
    return item;
  });
}

/**
 * A list attribute whose items the config does not give (e.g. a custom layer's list of Dense
 * layers): when its keys are one class's `x`, `x_1`, `x_2`…, containerKeys numbered them in list
 * order, which is then known.
 */
function homogeneousContainerOrder(keys: readonly string[]): string[] | undefined {
  const base = [...keys].sort((a, b) => a.length - b.length)[0]!;
  const suffix = (key: string) => (key === base ? 0 : key.startsWith(`${base}_`) ? Number(key.slice(base.length + 1)) : NaN);
  const numbers = keys.map(suffix);
  if (keys.length < 2 || numbers.some((n) => !Number.isInteger(n))) return undefined;
  return [...keys].sort((a, b) => suffix(a) - suffix(b));
}

function nameOf(layer: KerasObject): string {
  return String(layer.config['name'] ?? layer['name'] ?? '(unnamed)');
}

/** Recent Keras writes the object's name on its `vars` group: a cheap check that config and weights agree. */
function checkVarsName(group: Group, layerName: string, path: string, source: string): void {
  const vars = childGroup(group, 'vars');
  const written = vars && attributeValue(vars, 'name');
  if (typeof written === 'string' && written !== layerName) {
    throw new InputError(
      `${source}: model.weights.h5 group '${path}' holds the weights of layer '${written}', but config.json puts ` +
        `layer '${layerName}' there. config.json and model.weights.h5 are from different models.`,
    );
  }
}
