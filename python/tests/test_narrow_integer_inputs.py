"""Narrow integer inputs (uint8 images, int8, uint16, int16): stored in their own dtype, drawn from
the dtype's whole range by default ([0, 256) for uint8), a range for them kept within it, no
gradient; existing dtypes unchanged."""
import numpy as np
import pytest

import keras
import keras_bridge
from bundle_io import read_bundle
from keras_bridge.golden_inputs import NARROW_INTEGER_RANGES


def image_model(dtype="uint8"):
    """Pixels of `dtype`, rescaled to [0, 1] in the model, then a Conv2D."""
    pixels = keras.Input((6, 6, 2), dtype=dtype, name="pixels")
    x = keras.layers.Rescaling(1.0 / 255, name="rescale")(pixels)
    x = keras.layers.Conv2D(3, 3, name="conv")(x)
    return keras.Model(pixels, keras.layers.Dense(2, name="head")(keras.layers.Flatten()(x)))


@pytest.fixture(scope="module")
def uint8_bundle(tmp_path_factory):
    keras.utils.set_random_seed(0)
    return read_bundle(keras_bridge.export(image_model(), tmp_path_factory.mktemp("uint8") / "b", batch_size=4))


def test_a_uint8_input_is_stored_as_uint8_over_its_whole_range(uint8_bundle):
    assert uint8_bundle.manifest["inputs"] == [{"name": "pixels", "shape": [None, 6, 6, 2], "dtype": "uint8"}]
    pixels = uint8_bundle.golden("input", name="pixels")
    assert pixels.dtype == np.uint8 and pixels.shape == (4, 6, 6, 2)
    record = next(r for r in uint8_bundle.records("input") if r["name"] == "pixels")
    assert record["integer_range"] == {"low": 0, "high": 256, "origin": "default (the range of uint8)"}
    assert pixels.max() > 200 and (pixels == 0).any()  # the whole range, zeros included


def test_a_uint8_input_has_no_gradient_but_the_weights_do(uint8_bundle):
    assert uint8_bundle.records("grad_input") == []
    assert {(r["layer"], r["name"]) for r in uint8_bundle.records("grad_weight")} >= {("conv", "kernel"), ("head", "kernel")}


def test_the_layer_after_a_uint8_input_is_fed_its_values(uint8_bundle):
    pixels = uint8_bundle.golden("input", name="pixels")
    rescaled = uint8_bundle.golden("layer_output", layer="rescale")
    np.testing.assert_allclose(rescaled, pixels.astype(np.float32) / 255, rtol=1e-6)


@pytest.mark.parametrize("dtype", ["int8", "uint16", "int16"])
def test_other_narrow_integers_default_to_their_dtype_range(dtype, tmp_path):
    keras.utils.set_random_seed(0)
    bundle = read_bundle(keras_bridge.export(image_model(dtype), tmp_path / "b", batch_size=4))
    pixels = bundle.golden("input", name="pixels")
    low, high = NARROW_INTEGER_RANGES[dtype]
    assert pixels.dtype == np.dtype(dtype)
    assert low <= pixels.min() and pixels.max() < high
    assert next(r for r in bundle.records("input") if r["name"] == "pixels")["integer_range"]["high"] == high


def test_a_range_within_the_dtype_is_kept_and_one_outside_it_is_refused(tmp_path):
    bundle = read_bundle(keras_bridge.export(image_model(), tmp_path / "b", input_ranges={"pixels": (10, 20)}))
    pixels = bundle.golden("input", name="pixels")
    assert 10 <= pixels.min() and pixels.max() < 20
    with pytest.raises(keras_bridge.ExportError, match=r"input_ranges\['pixels'\] = \(0, 300\) leaves the range of input 'pixels''s dtype uint8, \[0, 256\)"):
        keras_bridge.export(image_model(), tmp_path / "c", input_ranges={"pixels": 300})


def test_a_float16_input_is_still_refused(tmp_path):
    with pytest.raises(keras_bridge.ExportError, match="dtype float16"):
        keras_bridge.export(image_model("float16"), tmp_path / "b")
