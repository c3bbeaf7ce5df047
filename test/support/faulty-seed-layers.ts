// A deliberately wrong implementation, to prove that parity can fail and names the layer:
// the seed layers, except that SwishActivation computes x * sigmoid(-x).
import tf from '#tfjs';
import '../../src/layers/seed/index.js';
import { SwishActivation } from '../../src/layers/seed/index.js';
import { registerLayer } from '../../src/registry/custom-layer-registry.js';

class WrongSignSwish extends SwishActivation {
  static override readonly className = 'SwishActivation';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return tf.mul(x, tf.sigmoid(tf.neg(x)));
    });
  }
}

/** Registers the wrong Swish (again: module imports run once, tests may need it twice). */
export function registerWrongSwish(): void {
  registerLayer('SwishActivation', WrongSignSwish);
}

registerWrongSwish();
