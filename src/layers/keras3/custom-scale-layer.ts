import tf from '#tfjs';
import { badField } from '../layer-errors.js';

export interface KerasCustomScaleLayerArgs {
  scale: number;
}

/**
 * keras.applications' CustomScaleLayer (keras/src/applications/inception_resnet_v2.py, the residual
 * blocks of InceptionResNetV2): inputs[0] + inputs[1] * scale, broadcasting like NumPy.
 */
export class KerasCustomScaleLayer extends tf.layers.Layer {
  static readonly className = 'KerasCustomScaleLayer';
  readonly scale: number;

  constructor(args: KerasCustomScaleLayerArgs & Record<string, unknown>) {
    super(args as object);
    this.scale = args.scale;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shapes = inputShape as tf.Shape[];
    if (!Array.isArray(shapes[0]) || shapes.length !== 2) {
      throw badField(this, 'inputs', `takes a list of 2 inputs, got ${Array.isArray(shapes[0]) ? shapes.length : 1}`);
    }
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [shortcut, residual] = inputs as tf.Tensor[];
      return tf.add(shortcut!, tf.mul(residual!, this.scale));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [a, b] = inputShape as tf.Shape[];
    return broadcastShapes(a!, b!);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}
tf.serialization.registerClass(KerasCustomScaleLayer);

/** NumPy broadcasting of two shapes (unknown sizes stay unknown unless the other side fixes them). */
function broadcastShapes(a: tf.Shape, b: tf.Shape): tf.Shape {
  const rank = Math.max(a.length, b.length);
  const at = (shape: tf.Shape, i: number): number | null => {
    const j = shape.length - rank + i;
    return j < 0 ? 1 : (shape[j] as number | null);
  };
  return Array.from({ length: rank }, (_, i) => {
    const [x, y] = [at(a, i), at(b, i)];
    return x === 1 ? y : y === 1 ? x : x ?? y;
  });
}
