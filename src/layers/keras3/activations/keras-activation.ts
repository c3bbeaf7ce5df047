import tf from '#tfjs';

/**
 * A Keras 3 activation function as tfjs-layers' `activation` option takes it: a serializable
 * object with `apply(x)`. tfjs-layers finds it by class name in tfjs's serialization map, so a
 * layer config can say `activation: 'kerasHardSigmoid'`.
 */
export abstract class KerasActivation extends tf.serialization.Serializable {
  abstract apply(x: tf.Tensor): tf.Tensor;

  override getConfig(): tf.serialization.ConfigDict {
    return {};
  }
}

export type KerasActivationClass = tf.serialization.SerializableConstructor<KerasActivation> & {
  readonly className: string;
};

/**
 * Defines and registers the activation class `className` computing `fn`. Class names are
 * lowerCamelCase, like tfjs's own ('hardSigmoid'): tfjs snake_cases string values when it saves
 * a model and camelCases them when it loads one, and only a lowerCamelCase name survives both.
 */
export function defineActivation(className: string, fn: (x: tf.Tensor) => tf.Tensor): KerasActivationClass {
  const defined = class extends KerasActivation {
    static readonly className = className;

    apply(x: tf.Tensor): tf.Tensor {
      return tf.tidy(() => fn(x));
    }
  };
  tf.serialization.registerClass(defined);
  return defined;
}
