// A deliberately wrong backward pass with a correct forward one, to prove that layer-isolated
// gradients pin it to its layer: the seed layers, except that SwishActivation's gradient is twice
// the true one (its outputs are exactly Keras's).
import tf from '#tfjs';
import '../../src/layers/seed/index.js';
import { firstTensor, SwishActivation } from '../../src/layers/seed/swish-activation.js';
import { registerLayer } from '../../src/registry/custom-layer-registry.js';

const swishWithDoubledGradient = tf.customGrad((...args) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  save([x]);
  return {
    value: tf.mul(x, tf.sigmoid(x)),
    gradFunc: (dy, saved) => {
      const input = saved[0]!;
      const s = tf.sigmoid(input);
      const derivative = tf.add(s, tf.mul(input, tf.mul(s, tf.sub(1, s))));
      return tf.mul(2, tf.mul(dy as tf.Tensor, derivative));
    },
  };
});

class DoubledGradientSwish extends SwishActivation {
  static override readonly className = 'SwishActivation';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return swishWithDoubledGradient(firstTensor(inputs)) as tf.Tensor;
  }
}

registerLayer('SwishActivation', DoubledGradientSwish);
