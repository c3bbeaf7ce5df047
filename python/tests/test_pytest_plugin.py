"""The pytest plugin that lets users write bundles from their own tests."""
import json

import pytest

from conftest import build_seed_model


def test_fixture_writes_a_bundle_under_the_configured_directory(keras_bridge_bundle, keras_bridge_bundle_dir):
    model = build_seed_model("temporal")
    bundle = keras_bridge_bundle(model, "temporal_from_pytest", seed=3, batch_size=4)
    assert bundle == keras_bridge_bundle_dir / "temporal_from_pytest"
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["seed"] == 3
    assert manifest["batch_size"] == 4
    assert [c["class_name"] for c in manifest["custom_layers"]] == ["TemporalWeighting"]


def test_fixture_refuses_names_that_are_paths(keras_bridge_bundle):
    with pytest.raises(ValueError, match="plain file name"):
        keras_bridge_bundle(build_seed_model("swish"), "../escape")


def test_option_is_registered(pytestconfig):
    # getoption raises ValueError for options no plugin registered.
    pytestconfig.getoption("--keras-bridge-bundles")
