import tf from '#tfjs';
import { singleTensor } from './single-input.js';

export interface KerasLayerScaleArgs {
  initValues: number;
  projectionDim: number;
}

/**
 * keras.applications' LayerScale (keras/src/applications/convnext.py, ConvNeXt's blocks): x * gamma,
 * gamma a trainable [projection_dim] weight that broadcasts over the last axis, made constant
 * init_values. Keras names the weight 'variable' (add_weight without a name); it pairs by position.
 */
export class KerasLayerScale extends tf.layers.Layer {
  static readonly className = 'KerasLayerScale';
  readonly initValues: number;
  readonly projectionDim: number;
  private gamma!: tf.LayerVariable;

  constructor(args: KerasLayerScaleArgs & Record<string, unknown>) {
    super(args as object);
    this.initValues = args.initValues;
    this.projectionDim = args.projectionDim;
  }

  override build(): void {
    this.gamma = this.addWeight('gamma', [this.projectionDim], 'float32', tf.initializers.constant({ value: this.initValues }), undefined, true);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.mul(singleTensor(inputs), this.gamma.read()));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), initValues: this.initValues, projectionDim: this.projectionDim };
  }
}
tf.serialization.registerClass(KerasLayerScale);
