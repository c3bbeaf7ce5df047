import type * as tf from '@tensorflow/tfjs';
import { WeightMismatchError } from '../errors.js';
import type { Bundle } from '../keras/bundle.js';
import type { SourceWeight } from './weight-source.js';

/**
 * Keras lists a layer's own weights (trainable, then non-trainable), then each sub-layer's in
 * turn; tfjs-layers lists all trainable weights, then all non-trainable ones. Their orders differ
 * for a custom layer whose sub-layers hold non-trainable weights, and shapes alone may not tell (a
 * [units] gain against a [units] gamma). A tfjs layer that builds a sub-layer with apply() names its
 * weights <layer>/<sub-layer>/<weight>, as Keras's weight paths are; so when every tfjs weight
 * name is a distinct Keras weight path, weights pair by name, and otherwise by position.
 *
 * Returns, for each tfjs weight, the position of its Keras weight.
 */
export function kerasPositions(tfjsNames: readonly string[], kerasPaths: readonly string[]): number[] {
  const byPath = new Map(kerasPaths.map((p, i) => [p, i]));
  const named = tfjsNames.map((name) => byPath.get(name));
  const bijection = byPath.size === kerasPaths.length && tfjsNames.length === kerasPaths.length && new Set(tfjsNames).size === tfjsNames.length;
  return bijection && named.every((i) => i !== undefined) ? (named as number[]) : tfjsNames.map((_, i) => i);
}

/** The converted layer's weights in the order of the bundle's Keras weights of that layer (`index`). */
export function weightsInKerasOrder(layer: tf.layers.Layer, bundle: Bundle): tf.LayerVariable[] {
  const kerasPaths = bundle.manifest.weights
    .filter((w) => w.layer === layer.name)
    .sort((a, b) => a.index - b.index)
    .map((w) => w.path);
  const positions = kerasPositions(layer.weights.map((w) => w.originalName), kerasPaths);
  const ordered: tf.LayerVariable[] = [];
  positions.forEach((kerasIndex, i) => (ordered[kerasIndex] = layer.weights[i]!));
  return ordered;
}

/**
 * Pairs tfjs weights with Keras weights whose order the source does not give, only who holds them
 * (SourceWeight.owner, a .keras file's custom layer with sub-layers): the tfjs weight
 * `<owner>/<weight>` is, among its owner's weights in tfjs order, at the position of its Keras
 * variable among that owner's (both trainable first, in creation order). Every Keras owner must be
 * one object, and every tfjs owner one of them, with as many weights; otherwise the pairing is
 * ambiguous and refused, naming the layer and what does not match.
 *
 * Returns, for each tfjs weight, the position of its Keras weight in `kerasWeights`.
 */
export function positionsByOwner(tfjsNames: readonly string[], kerasWeights: readonly SourceWeight[], layer: string, source: string): number[] {
  const refuse = (what: string): never => {
    throw new WeightMismatchError(
      `${source}: layer '${layer}' keeps weights in sub-layers, whose order a .keras file does not record; keras-bridge ` +
        `pairs them by name, but ${what}. Name the tfjs sub-layers as the Keras ones and build each with ` +
        `subLayer.apply(tf.input(...)) inside the layer's build(), so that its weights are named '<layer>/<sub-layer>/<weight>', ` +
        `or export a bundle with 'keras-bridge export --model', which records the order.`,
    );
  };
  const kerasOwners = new Map<string, number[]>();
  kerasWeights.forEach((w, i) => {
    if (!w.owner) return refuse(`weight '${w.path}' has no owner in the file`);
    const list = kerasOwners.get(w.owner.path) ?? [];
    if (list[w.owner.position] !== undefined) {
      refuse(`two sub-layers of the file are both named '${w.owner.path}' (${kerasWeights.filter((o) => o.owner?.path === w.owner!.path && o.owner.position === 0).map((o) => o.path.replace(/\/vars\/0$/, '')).join(', ')})`);
    }
    list[w.owner.position] = i;
    kerasOwners.set(w.owner.path, list);
  });
  const known = () => [...kerasOwners].map(([owner, list]) => `${owner} (${list.length})`).join(', ');
  const tfjsOwners = new Map<string, number>();
  const positions = tfjsNames.map((name) => {
    const owner = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : '';
    const list = kerasOwners.get(owner);
    if (!list) refuse(`tfjs weight '${name}' names no sub-layer the file holds weights for (the file holds: ${known()})`);
    const position = tfjsOwners.get(owner) ?? 0;
    tfjsOwners.set(owner, position + 1);
    if (position >= list!.length) refuse(`tfjs gives '${owner}' more weights than the file's ${list!.length} (tfjs weight '${name}')`);
    return list![position]!;
  });
  for (const [owner, list] of kerasOwners) {
    const count = tfjsOwners.get(owner) ?? 0;
    if (count !== list.length) refuse(`the file holds ${list.length} weights of '${owner}' and tfjs ${count} (tfjs weights: ${tfjsNames.join(', ')})`);
  }
  return positions;
}
