"""Models and layers the tests export besides the seed ones (importable as a --factory module)."""
import numpy as np
import tensorflow as tf

import keras


class PyScale(keras.layers.Layer):
    """x * scale, computed in numpy through tf.py_function: a custom layer with a trainable weight
    that Python cannot differentiate."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="random_normal", name="scale")

    def call(self, inputs):
        return tf.py_function(lambda x, s: x.numpy() * s.numpy(), [inputs, self.scale], Tout=tf.float32)

    def compute_output_shape(self, input_shape):
        return input_shape


class Scale(keras.layers.Layer):
    """PyScale's TF-native twin, differentiable by the tape: the analytic reference."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="random_normal", name="scale")

    def call(self, inputs):
        return inputs * self.scale


class MeanOverFeatures(keras.layers.Layer):
    """CustomRiskLayer's TF-native twin: mean over axis 1, keepdims."""

    def call(self, inputs):
        return tf.reduce_mean(inputs, axis=1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1)


class LuFactor(keras.layers.Layer):
    """Uses an op (Lu) that has no registered gradient."""

    def call(self, inputs):
        lu, _ = tf.linalg.lu(inputs)
        return lu


@tf.function
def _numpy_tanh(x):
    return tf.numpy_function(np.tanh, [x], tf.float32)


class NestedNumpyTanh(keras.layers.Layer):
    """Hides a PyFunc inside a nested tf.function (a PartitionedCall body)."""

    def call(self, inputs):
        y = _numpy_tanh(inputs)
        y.set_shape(inputs.shape)
        return y

    def compute_output_shape(self, input_shape):
        return input_shape


def two_branch_model(scale_layer=PyScale):
    """Two inputs, two outputs; a scale layer (PyScale: finite differences) on branch a only."""
    in_a = keras.Input((4,), name="in_a")
    in_b = keras.Input((3,), name="in_b")
    hidden = keras.layers.Dense(3, activation="tanh", name="dense_a")(in_a)
    scaled = scale_layer(name="scale")(hidden)
    merged = keras.layers.Add(name="add")([scaled, in_b])
    out_1 = keras.layers.Dense(2, name="out_1")(merged)
    out_2 = keras.layers.Dense(1, name="out_2")(in_b)
    return keras.Model([in_a, in_b], [out_1, out_2], name="two_branch")


def lambda_model():
    return keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2.0, name="doubler")])


def unbuilt_model():
    return keras.Sequential([keras.layers.Dense(2)])


def variable_length_model():
    inputs = keras.Input((None, 4), name="sequence")
    return keras.Model(inputs, keras.layers.Dense(2)(inputs))


def not_a_model():
    return 42


def raising_factory():
    raise ValueError("this factory is broken on purpose")
