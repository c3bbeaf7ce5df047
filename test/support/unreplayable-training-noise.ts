// A TrainingNoise twin that draws with tf.randomNormal instead of keras-bridge's `random`: its
// training-mode draws cannot be replayed, which parity must report rather than pass or fail.
import tf from '#tfjs';
import { registerLayer } from '../../src/registry/custom-layer-registry.js';
import { TrainingNoise, trainingNoiseConfig } from './training-noise.js';

class UnreplayableTrainingNoise extends TrainingNoise {
  static override readonly className = 'TrainingNoise';
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return kwargs['training'] === true ? tf.add(x, tf.randomNormal(x.shape, 0, this.stddev)) : tf.clone(x);
    });
  }
}

export function registerUnreplayableTrainingNoise(): void {
  registerLayer('TrainingNoise', UnreplayableTrainingNoise, trainingNoiseConfig);
}

registerUnreplayableTrainingNoise();
