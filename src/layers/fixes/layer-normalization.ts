import tf from '#tfjs';
import { normalizeAsKeras } from '../keras3/layer-normalization.js';
import { patchRegisteredClass } from './patch-registered-class.js';

type Call = (this: LayerNormalizationFields, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

interface LayerNormalizationFields {
  axis: number | number[];
  epsilon: number;
  gamma: tf.LayerVariable | null;
  beta: tf.LayerVariable | null;
}

const PATCHED = Symbol.for('keras-bridge.layer-normalization');

/**
 * tfjs-layers' LayerNormalization tiles the mean, the variance, gamma and beta to the input's full
 * shape (four Tiles, a workaround for an old tfjs batchNorm gradient) before one batchNorm. On wasm
 * those tiles made a [1, 128, 256] layer take 19 ms instead of 0.4 to 0.8 ms, and on tensorflow
 * 1.4 ms instead of 0.95 forward (3.8 against 2.4 ms forward+backward). keras-bridge's runtime runs it as Keras
 * computes it (normalizeAsKeras, the same as KerasLayerNormalization): statistics and weights
 * broadcast, nothing tiled. Installed once, when keras-bridge's runtime is imported.
 */
function installLayerNormalizationAsKeras(): void {
  patchRegisteredClass<{ call: Call }>('LayerNormalization', PATCHED, (prototype) => {
    const call = prototype.call;
    prototype.call = function (this: LayerNormalizationFields, inputs, kwargs) {
      const x = Array.isArray(inputs) ? inputs : [inputs];
      // build() turned axis into non-negative axes; before it, tfjs-layers' own call.
      if (x.length !== 1 || !Array.isArray(this.axis)) return call.call(this, inputs, kwargs);
      return normalizeAsKeras(x[0]!, this.axis, this.epsilon, this.gamma?.read() ?? null, this.beta?.read() ?? null);
    };
  });
}

installLayerNormalizationAsKeras();
