// A deliberately wrong weight layout: TemporalWeighting with its kernel as [units, in].
import tf from '#tfjs';
import '../../src/layers/seed/index.js';
import { TemporalWeighting } from '../../src/layers/seed/index.js';
import { registerLayer } from '../../src/registry/custom-layer-registry.js';
import { z } from 'zod';

class TransposedTemporalWeighting extends TemporalWeighting {
  static override readonly className = 'TemporalWeighting';
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    this.addWeight('kernel', [this.units, shape[shape.length - 1]!], 'float32', tf.initializers.zeros());
    this.built = true;
  }
}

registerLayer('TemporalWeighting', TransposedTemporalWeighting, z.object({ units: z.number() }));
