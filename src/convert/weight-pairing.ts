import type * as tf from '@tensorflow/tfjs';
import type { Bundle } from '../keras/bundle.js';

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
