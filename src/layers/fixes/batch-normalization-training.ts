import tf from '#tfjs';
import { batchNormalizeAsKeras, type BatchNormalizationFields } from '../keras3/batch-normalization.js';
import { patchRegisteredClass } from './patch-registered-class.js';

type Call = (this: BatchNormalizationFields, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

const PATCHED = Symbol.for('keras-bridge.batch-normalization-training');

/**
 * tfjs-layers' BatchNormalization in training computes otherwise than Keras 3: tfjs-core's
 * moments (the variance's gradient also flows through its mean, a path that is zero only in exact
 * arithmetic), then (x - mean) · rsqrt(var + ε) · gamma + beta, and moving statistics as
 * moving - (moving - batch) · (1 - momentum). Batch statistics make training mode ill-conditioned
 * (a batch's gradient cancels through its mean and variance), so the rounding of a different
 * formula grows: on the ResNet50 and MobileNetV2 bench bundles, training-mode layer outputs and
 * gradients came out 1.3-4x Keras's own float32 error from Keras's values (parity, which allows
 * 2x, failed 4 of ResNet50's tensors on tensorflow and 66 of MobileNetV2's on wasm).
 * keras-bridge's runtime computes training mode as Keras does (batchNormalizeAsKeras, the same as
 * KerasBatchNormalization), and a frozen layer (trainable false) as at inference, as Keras 3 does.
 * Inference keeps tfjs-layers' own batch normalization kernel.
 */
function installBatchNormalizationTrainingAsKeras(): void {
  patchRegisteredClass<{ call: Call }>('BatchNormalization', PATCHED, (prototype) => {
    const call = prototype.call;
    prototype.call = function (this: BatchNormalizationFields, inputs, kwargs) {
      const x = Array.isArray(inputs) ? inputs : [inputs];
      if (kwargs?.['training'] !== true || x.length !== 1) return call.call(this, inputs, kwargs);
      if (!this.trainable) return call.call(this, inputs, { ...kwargs, training: false });
      return batchNormalizeAsKeras(this, x[0]!, true);
    };
  });
}

installBatchNormalizationTrainingAsKeras();
