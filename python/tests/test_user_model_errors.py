"""Messages for what users hand the exporter that it cannot take as is."""
import pytest

from keras_bridge import export
from keras_bridge._tf import keras
from keras_bridge.errors import ExportError
from keras_bridge.loading import _first_line


class TinyNet(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(2)

    def call(self, x):
        return self.dense(x)


def test_a_subclassed_model_is_refused_with_how_to_export_it(tmp_path):
    model = TinyNet(name="tiny")
    model(keras.ops.zeros((1, 3)))
    with pytest.raises(ExportError, match=r"model 'tiny' is a subclassed keras.Model with its own call\(\), class TinyNet .*super\(\).__init__\(inputs, outputs\)"):
        export(model, tmp_path / "bundle")


class MismatchedBlock(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(5)

    def call(self, x):
        return x + self.dense(x)


def test_an_error_inside_a_layer_call_keeps_its_cause():
    with pytest.raises(ValueError) as raised:
        MismatchedBlock(name="block")(keras.Input((6,)))
    line = _first_line(raised.value)
    assert line.startswith("Exception encountered when calling MismatchedBlock.call().")
    assert "Dimensions must be equal, but are 6 and 5" in line
