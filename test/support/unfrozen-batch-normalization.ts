import tf from '#tfjs';
import { batchNormalizeAsKeras, KerasBatchNormalization } from '../../src/layers/keras3/batch-normalization.js';

/**
 * A planted fault: a batch normalization that ignores being frozen, normalizing with the batch's
 * statistics in training and moving its moving ones, as tfjs-layers' own BatchNormalization does
 * without keras-bridge's runtime (Keras 3 computes a frozen layer as at inference).
 */
export class UnfrozenBatchNormalization extends KerasBatchNormalization {
  static override readonly className = 'UnfrozenBatchNormalization';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return batchNormalizeAsKeras({ axis: this.axis, momentum: this.momentum, epsilon: this.epsilon, trainable: true, gamma: this.gamma, beta: this.beta, movingMean: this.movingMean, movingVariance: this.movingVariance }, x, kwargs['training'] === true);
  }
}
tf.serialization.registerClass(UnfrozenBatchNormalization);
