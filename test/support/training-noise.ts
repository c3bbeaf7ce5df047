// The TypeScript twin of fixtures/models/training_model.py's TrainingNoise: x + stddev * N(0, 1)
// when training, drawn through keras-bridge's replayable `random` (as the Python layer draws
// through keras.random), x otherwise.
import tf from '#tfjs';
import { z } from 'zod';
import { registerLayer } from '../../src/registry/custom-layer-registry.js';
import { random } from '../../src/training/replayable-random.js';

export class TrainingNoise extends tf.layers.Layer {
  static readonly className = 'TrainingNoise';
  readonly stddev: number;
  readonly seed: number | null;

  constructor(args: { stddev?: number; seed?: number | null } & Record<string, unknown>) {
    super(args as object);
    this.stddev = args.stddev ?? 0.1;
    this.seed = args.seed ?? null;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      if (kwargs['training'] !== true) return tf.clone(x);
      return tf.add(x, random.normal(x.shape, 0, this.stddev, this.seed ?? undefined));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), stddev: this.stddev, seed: this.seed };
  }
}

export const trainingNoiseConfig = z.object({ stddev: z.number().nonnegative(), seed: z.number().int().nullable() });

/** Registers this TrainingNoise (again: module imports run once, and tests swap in other twins). */
export function registerTrainingNoise(): void {
  registerLayer('TrainingNoise', TrainingNoise, trainingNoiseConfig);
}

registerTrainingNoise();
