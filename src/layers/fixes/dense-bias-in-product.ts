import tf from '#tfjs';
import { patchRegisteredClass } from './patch-registered-class.js';
import { tapeRecording } from '../../engine/tape-recording.js';

type Call = (this: DenseFields, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

/** The fields of tfjs-layers' Dense that its call() reads. */
interface DenseFields {
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  activation: { getClassName(): string; apply(x: tf.Tensor): tf.Tensor } | null;
  invokeCallHook(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): void;
}

const PATCHED = Symbol.for('keras-bridge.dense-bias-in-product');

/** The activations tfjs-layers' Dense itself hands to the fused product (its mapActivationToFusedKernel). */
const FUSED_BY_TFJS = new Set(['relu', 'linear', 'elu']);

/**
 * tfjs-layers' Dense runs its product, then its bias as a separate broadcast add over the whole
 * output, then the activation, wherever the activation is not one the fused product applies (gelu,
 * tanh, sigmoid, swish, softmax: a Transformer's feed-forward layer). Here, outside a gradient
 * tape, the bias goes into the product (tf.fused.matMul with a linear activation), as tfjs-layers
 * does for relu: on wasm keras-bridge's tiles add it to each chunk of rows while they are in cache
 * (kernel-fixes/fused-mat-mul-tiles.ts), after the sums, the same values as the separate add.
 * Below the tiles' size, tfjs-backend-wasm's XNNPACK starts its sums from the bias, as it already
 * does for a Dense with relu: a float32 rounding apart. Under a tape, or for other dtypes, tfjs-layers'
 * own call runs. Installed once, when keras-bridge's runtime is imported.
 */
function installDenseBiasInProduct(): void {
  patchRegisteredClass<{ call: Call }>('Dense', PATCHED, (prototype) => {
    const original = prototype.call;
    prototype.call = function (this: DenseFields, inputs, kwargs) {
      const x = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : undefined) : inputs;
      const [bias, activation] = [this.bias, this.activation];
      if (!x || !bias || !activation || FUSED_BY_TFJS.has(activation.getClassName()) || x.dtype !== 'float32' || x.rank < 2 || tapeRecording() !== false) {
        return original.call(this, inputs, kwargs);
      }
      return tf.tidy(() => {
        this.invokeCallHook(inputs, kwargs);
        const kernel = this.kernel.read();
        const units = kernel.shape[kernel.rank - 1]!;
        const rows = x.rank === 2 ? x : tf.reshape(x, [-1, x.shape[x.rank - 1]!]);
        const product = tf.fused.matMul({ a: rows, b: kernel, bias: bias.read() });
        return activation.apply(x.rank === 2 ? product : tf.reshape(product, [...x.shape.slice(0, -1), units]));
      });
    };
  });
}

installDenseBiasInProduct();
