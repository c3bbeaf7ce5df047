// A deliberate fault that only training mode can see: a TrainingNoise twin whose training=True
// branch ignores stddev (adds N(0, 1) instead of N(0, stddev)); at inference it is the identity, as
// Keras's. Parity must pass inference and name training_noise as training mode's first diverging layer.
import tf from '#tfjs';
import { registerLayer } from '../../src/registry/custom-layer-registry.js';
import { random } from '../../src/training/replayable-random.js';
import { TrainingNoise, trainingNoiseConfig } from './training-noise.js';

class UnscaledTrainingNoise extends TrainingNoise {
  static override readonly className = 'TrainingNoise';
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return kwargs['training'] === true ? tf.add(x, random.normal(x.shape, 0, 1, this.seed ?? undefined)) : tf.clone(x);
    });
  }
}

/** Registers the faulty twin (again: module imports run once, tests swap twins). */
export function registerUnscaledTrainingNoise(): void {
  registerLayer('TrainingNoise', UnscaledTrainingNoise, trainingNoiseConfig);
}

registerUnscaledTrainingNoise();
