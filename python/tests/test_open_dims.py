"""Open input dimensions (input_shapes.py): golden cases at the sizes asked for, shared open axes,
defaults found from the model, padding masks drawn as masks, and dict outputs named by key."""
import sys

import numpy as np
import pytest

from bundle_io import read_bundle, unpack
from conftest import REPO_ROOT
from keras_bridge import cli, export
from keras_bridge._tf import keras
from keras_bridge.errors import ExportError
from keras_bridge.input_shapes import DEFAULT_OPEN_SIZE

sys.path.insert(0, str(REPO_ROOT / "fixtures" / "models"))
import open_dims_models  # noqa: E402


def _built(factory):
    keras.utils.set_random_seed(0)
    return factory()


def _valid_convnet():
    """Three valid 3x3 convolutions, each pooled by 2: the smallest input it accepts is 22."""
    image = keras.Input((None, None, 1), name="image")
    x = image
    for i in range(3):
        x = keras.layers.MaxPooling2D(2)(keras.layers.Conv2D(2, 3, name=f"conv{i}")(x))
    return keras.Model(image, keras.layers.GlobalAveragePooling2D()(x))


def test_each_size_is_a_golden_case_computed_by_keras_at_that_size(tmp_path):
    model = _built(open_dims_models.lstm_text)
    bundle = read_bundle(export(model, tmp_path / "b", input_shapes={"ids": [(9,), (4,)]}))
    goldens = bundle.manifest["goldens"]
    assert goldens["case"]["input_shapes"] == {"ids": [2, 9]}
    (other,) = goldens["cases"]
    assert other["name"] == "ids=4" and other["input_shapes"] == {"ids": [2, 4]}
    assert other["generator"] == "numpy.random.default_rng([0, 2, 1])"
    records = {t["kind"]: t for t in other["tensors"]}
    ids = unpack(bundle.goldens_bin, records["input"])
    assert ids.shape == (2, 4)
    np.testing.assert_allclose(unpack(bundle.goldens_bin, records["output"]), model(ids).numpy(), rtol=1e-6, atol=1e-6)
    assert {"layer_output", "grad_weight", "grad_layer_output"} <= {t["kind"] for t in other["tensors"]}


def test_open_axes_share_their_size_and_the_padding_mask_is_ones_then_zeros(tmp_path):
    bundle = read_bundle(export(_built(open_dims_models.transformer_encoder), tmp_path / "b", input_shapes={"token_ids": (7,)}))
    case = bundle.manifest["goldens"]["case"]
    assert case["input_shapes"] == {"padding_mask": [2, 7], "token_ids": [2, 7]}
    assert case["origins"]["padding_mask"] == "input_shapes (shared open axes)"
    record = bundle.record("input", name="padding_mask")
    mask = unpack(bundle.goldens_bin, record)
    for row, length in zip(mask, record["padding_mask"]["lengths"]):
        assert row.tolist() == [1] * length + [0] * (7 - length)
    assert min(record["padding_mask"]["lengths"]) < 7  # one padded sample at least
    assert [o["name"] for o in bundle.manifest["outputs"]] == ["pooled_output", "sequence_output"]


def test_the_default_size_is_the_smallest_the_model_accepts(tmp_path):
    assert DEFAULT_OPEN_SIZE == 8
    bundle = read_bundle(export(_built(_valid_convnet), tmp_path / "conv"))
    case = bundle.manifest["goldens"]["case"]
    assert case["input_shapes"] == {"image": [2, 22, 22, 1]}
    assert "smallest size >= 8 the model accepts: 22" in case["origins"]["image"]
    sequence = read_bundle(export(_built(open_dims_models.lstm_text), tmp_path / "seq"))
    assert sequence.manifest["goldens"]["case"]["input_shapes"] == {"ids": [2, DEFAULT_OPEN_SIZE]}


def test_fixed_shape_models_are_unchanged(tmp_path):
    def dense():
        x = keras.Input((3,), name="x")
        return keras.Model(x, keras.layers.Dense(2)(x))

    bundle = read_bundle(export(_built(dense), tmp_path / "b"))
    assert "case" not in bundle.manifest["goldens"] and "cases" not in bundle.manifest["goldens"]


@pytest.mark.parametrize(
    "shapes, message",
    [
        ({"nope": (3,)}, r"input_shapes names \['nope'\], which are not model inputs"),
        ({"ids": (3, 2)}, r"input_shapes\['ids'\] = \[3, 2\] has 2 dimension\(s\), but model input 'ids' has shape \[None, None\]"),
        ({"ids": (0,)}, r"expected the input's dimensions after the batch as positive integers"),
    ],
)
def test_bad_input_shapes_are_refused_naming_the_input(tmp_path, shapes, message):
    with pytest.raises(ExportError, match=message):
        export(_built(open_dims_models.lstm_text), tmp_path / "b", input_shapes=shapes)


def test_a_fixed_dimension_must_be_given_as_the_model_has_it(tmp_path):
    with pytest.raises(ExportError, match=r"dimension 3 of model input 'image' is fixed at 3 \(shape \[None, None, None, 3\]\), not 4"):
        export(_built(open_dims_models.fully_convolutional), tmp_path / "b", input_shapes={"image": (8, 8, 4)})


def test_the_cli_groups_repeated_input_shapes_into_cases():
    args = cli.build_parser().parse_args(["export", "--out", "x", "--factory", "m:f", "--input-shape", "ids=9", "--input-shape", "ids=4", "--input-shape", "image=8,9,3"])
    assert cli.export_arguments(cli.options_from_args(args))["input_shapes"] == {"ids": [(9,), (4,)], "image": [(8, 9, 3)]}
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["export", "--out", "x", "--factory", "m:f", "--input-shape", "ids=a"])
