import tf from '#tfjs';
import { singleTensor } from './single-input.js';
import { badField } from '../layer-errors.js';

export interface KerasInferenceIdentityArgs {
  name?: string;
  /** The Keras class it stands for (RandomFlip, RandomRotation, ...), kept for reports. */
  kerasClass: string;
}

/**
 * A Keras layer that is the identity at inference: Keras 3's random image augmentation layers
 * (RandomFlip, RandomRotation, RandomZoom, RandomTranslation, RandomContrast, RandomBrightness).
 * Their training-mode transformation draws randomness keras-bridge does not replay, so this layer
 * is the identity in training mode too; parity reports training mode as not compared, naming the
 * layer (the exporter's recorded draws go unused).
 */
export class KerasInferenceIdentity extends tf.layers.Layer {
  static readonly className = 'KerasInferenceIdentity';
  readonly kerasClass: string;

  constructor(args: KerasInferenceIdentityArgs & Record<string, unknown>) {
    super(args as object);
    if (typeof args.kerasClass !== 'string' || args.kerasClass === '') {
      throw badField(this, 'keras_class', 'missing: the layer needs kerasClass, the Keras class it stands for');
    }
    this.kerasClass = args.kerasClass;
    this.supportsMasking = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.clone(singleTensor(inputs));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), kerasClass: this.kerasClass };
  }
}
tf.serialization.registerClass(KerasInferenceIdentity);
