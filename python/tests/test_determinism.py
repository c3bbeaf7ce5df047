"""Same model, same seed: byte-identical goldens.bin and weights.bin."""
import pytest
from tensorflow.python.framework import config as tf_config

import keras_bridge
from bundle_io import read_bundle
from conftest import build_seed_model


@pytest.mark.parametrize("name", ["swish", "risk"])
def test_two_exports_with_the_same_seed_are_byte_identical(name, tmp_path):
    first = read_bundle(keras_bridge.export(build_seed_model(name, 7), tmp_path / "a", seed=7))
    second = read_bundle(keras_bridge.export(build_seed_model(name, 7), tmp_path / "b", seed=7))
    assert first.goldens_bin == second.goldens_bin
    assert first.weights_bin == second.weights_bin
    # Everything but the names Keras numbers per process (sequential, sequential_1, ...) matches.
    assert [t["offset"] for t in first.tensors] == [t["offset"] for t in second.tensors]
    assert first.manifest["goldens"]["loss"] == second.manifest["goldens"]["loss"]


def test_another_seed_gives_other_goldens(tmp_path):
    model = build_seed_model("swish", 0)
    a = read_bundle(keras_bridge.export(model, tmp_path / "a", seed=0))
    b = read_bundle(keras_bridge.export(model, tmp_path / "b", seed=1))
    assert a.weights_bin == b.weights_bin  # same model
    assert a.goldens_bin != b.goldens_bin
    assert len(a.goldens_bin) == len(b.goldens_bin)


def test_batch_size_sets_the_golden_batch_dimension(tmp_path):
    bundle = read_bundle(keras_bridge.export(build_seed_model("temporal"), tmp_path / "b", batch_size=5))
    assert bundle.manifest["batch_size"] == 5
    for record in bundle.records("input") + bundle.records("output") + bundle.records("layer_output"):
        assert record["shape"][0] == 5


def test_op_determinism_is_restored_after_export(tmp_path):
    before = tf_config.is_op_determinism_enabled()
    keras_bridge.export(build_seed_model("temporal"), tmp_path / "t")
    assert tf_config.is_op_determinism_enabled() == before
