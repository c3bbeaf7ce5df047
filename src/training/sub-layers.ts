import type * as tf from '@tensorflow/tfjs';
import { TranslatedLayer } from '../translated/translated-layer.js';

/**
 * Layers that hold other layers and call them: Keras records their sub-layers' random draws
 * under [layer, sub-layer], so a training-mode replay wraps the tfjs sub-layers too, keyed by
 * the holder's tfjs class name. (Nested models need no entry: their layers are listed already.)
 */
export type SubLayers = (layer: tf.layers.Layer) => SubLayer[];

/** A tfjs layer another layer calls, with its name as Keras records it (which tfjs may spell otherwise). */
export interface SubLayer {
  layer: tf.layers.Layer;
  name: string;
}

const holders = new Map<string, SubLayers>();

export function registerSubLayers(classNames: string[], subLayers: SubLayers): void {
  for (const name of classNames) holders.set(name, subLayers);
}

export function subLayersOf(layer: tf.layers.Layer): SubLayer[] {
  const registered = holders.get(layer.getClassName());
  if (registered) return registered(layer);
  // A layer translated from Python (route 1) names its sub-layers as Keras does (translated-layer.ts).
  if (layer instanceof TranslatedLayer) return layer.subLayers.map((sub) => ({ layer: sub, name: sub.name }));
  return [];
}

// Keras 3 names Bidirectional's copies forward_<name> and backward_<name>, where <name> is the
// wrapped layer's without a 'forward_' prefix (its saved config says 'forward_lstm');
// tfjs-layers' prefixes the saved name again ('forward_forward_lstm', 'backward_forward_lstm').
registerSubLayers(['Bidirectional'], (layer) => {
  const { forwardLayer, backwardLayer, layer: wrapped } = layer as unknown as Record<'forwardLayer' | 'backwardLayer' | 'layer', tf.layers.Layer>;
  const name = wrapped.name.startsWith('forward_') ? wrapped.name.slice('forward_'.length) : wrapped.name;
  return [
    { layer: forwardLayer, name: `forward_${name}` },
    { layer: backwardLayer, name: `backward_${name}` },
  ];
});

// Keras 3's TimeDistributed calls its layer once per timestep (a Python loop over the static time
// axis, keras/src/layers/rnn/time_distributed.py), so each timestep's draw is recorded as its own
// call of [time_distributed, <layer>], with the shape of one timestep. tfjs-layers' TimeDistributed
// also calls its layer once per timestep, in order (K.rnn): replayed as calls 0, 1, ... alike.
registerSubLayers(['TimeDistributed'], (layer) => {
  const wrapped = (layer as unknown as { layer: tf.layers.Layer }).layer;
  return [{ layer: wrapped, name: wrapped.name }];
});
