import type * as tf from '@tensorflow/tfjs';

interface Counted {
  _refCount: number | null;
}

/**
 * Disposes a model the parity engine loaded, weights of shared layers included. tfjs-layers counts
 * a reference for each time a layer is applied, and a model's dispose() gives back one: a layer
 * applied twice in the model (a shared Dense) kept its weights alive after the model was disposed
 * (test/parity/no-leaks.test.ts). The engine owns the model and everything in it, so each layer is
 * disposed until nothing holds it.
 */
export function disposeModel(model: tf.LayersModel): void {
  model.dispose();
  for (const layer of model.layers) {
    const counted = layer as unknown as Counted;
    while (layer.built && typeof counted._refCount === 'number' && counted._refCount > 0) layer.dispose();
  }
}
