import type * as tf from '@tensorflow/tfjs';

/**
 * Layers that hold other layers and call them: Keras records their sub-layers' random draws
 * under [layer, sub-layer], so a training-mode replay wraps the tfjs sub-layers too, keyed by
 * the holder's tfjs class name. (Nested models need no entry: their layers are listed already.)
 */
export type SubLayers = (layer: tf.layers.Layer) => tf.layers.Layer[];

const holders = new Map<string, SubLayers>();

export function registerSubLayers(classNames: string[], subLayers: SubLayers): void {
  for (const name of classNames) holders.set(name, subLayers);
}

export function subLayersOf(layer: tf.layers.Layer): tf.layers.Layer[] {
  return holders.get(layer.getClassName())?.(layer) ?? [];
}

// tfjs-layers' Bidirectional names its copies 'forward_<layer>' and 'backward_<layer>', as
// Keras 3 does, and calls them itself.
registerSubLayers(['Bidirectional'], (layer) => {
  const { forwardLayer, backwardLayer } = layer as unknown as { forwardLayer: tf.layers.Layer; backwardLayer: tf.layers.Layer };
  return [forwardLayer, backwardLayer];
});
