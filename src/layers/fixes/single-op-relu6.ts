import tf from '#tfjs';
import { patchRegisteredClass } from './patch-registered-class.js';

type Apply = (this: unknown, x: tf.Tensor) => tf.Tensor;
type Call = (this: { maxValue?: number | null }, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

const PATCHED = Symbol.for('keras-bridge.single-op-relu6');

/**
 * ReLU capped at 6 as one Relu6, where tfjs-layers runs two operations and, on the tensorflow
 * backend, two TensorFlow ops where Keras runs one (tf.nn.relu6). Under a tape each of the two also
 * keeps its input for the gradient: a second activation-sized tensor per layer held until the
 * backward pass ends (MobileNetV2: 24 MB of 112 MB per image). Relu6 has a kernel on every backend
 * (on tensorflow, TensorFlow's own op: KERNEL_FIXES.tensorflow); its gradient is dy where
 * 0 < x <= 6 (tfjs-core) or 0 < x < 6 (TensorFlow, as Keras), which differ at x = 6 exactly only.
 *
 * - the `relu6` activation: tfjs-layers computes minimum(6, relu(x)).
 * - the ReLU layer with max_value 6: tfjs-layers computes clipByValue(relu(x), 0, 6); Keras's own
 *   ReLU takes relu6 for exactly this case (activations.ReLU.static_call), relu then clip otherwise,
 *   which tfjs-layers' call keeps.
 * Installed once, when keras-bridge's runtime is imported.
 */
function installSingleOpRelu6(): void {
  patchRegisteredClass<{ apply: Apply }>('relu6', PATCHED, (activation) => {
    activation.apply = (x: tf.Tensor) => tf.relu6(x);
  });
  patchRegisteredClass<{ call: Call }>('ReLU', PATCHED, (reluLayer) => {
    const call = reluLayer.call;
    reluLayer.call = function (this: { maxValue?: number | null }, inputs, kwargs) {
      if (this.maxValue !== 6) return call.call(this, inputs, kwargs);
      const x = Array.isArray(inputs) ? inputs : [inputs];
      if (x.length !== 1) return call.call(this, inputs, kwargs);
      return tf.relu6(x[0]!);
    };
  });
}

installSingleOpRelu6();
