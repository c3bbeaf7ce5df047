"""A seed model saved as .keras and exported with --model/--module matches the live export."""
import pytest

import keras_bridge
from bundle_io import read_bundle
from conftest import SEED_DIR, build_seed_model
from keras_bridge import cli


@pytest.mark.usefixtures("restore_sys_path")
@pytest.mark.parametrize("name", ["swish", "temporal", "risk"])
def test_keras_file_export_matches_live_export(name, tmp_path, capsys):
    model = build_seed_model(name, seed=5)
    live = read_bundle(keras_bridge.export(model, tmp_path / "live", seed=5))
    model.save(tmp_path / f"{name}.keras")

    code = cli.main(
        [
            "export", "--out", str(tmp_path / "file"), "--model", str(tmp_path / f"{name}.keras"),
            "--module", "seed_models", "--path", str(SEED_DIR), "--seed", "5",
        ]
    )
    assert code == 0, capsys.readouterr().err
    loaded = read_bundle(tmp_path / "file")

    assert loaded.goldens_bin == live.goldens_bin
    assert loaded.weights_bin == live.weights_bin
    # Same records everywhere, except variable names and paths, which Keras does not keep stable:
    # it prefixes paths with the model name when a Sequential builds its layers itself
    # (input_shape=...) but not when load_model builds them ("sequential/dense/kernel" comes back
    # as "dense/kernel"), and names unnamed add_weight() variables from a per-process counter
    # ("variable", "variable_1", ...). Weights are identified by (layer, index) and by order.
    for key in ("model", "inputs", "outputs", "layers", "custom_layers", "weights", "goldens"):
        assert without_variable_names(loaded.manifest[key]) == without_variable_names(live.manifest[key]), key
    for mine, theirs in zip(loaded.manifest["weights"], live.manifest["weights"]):
        assert theirs["path"].rsplit("/", 2)[-2:-1] == mine["path"].rsplit("/", 2)[-2:-1]  # same layer


def without_variable_names(value):
    if isinstance(value, dict):
        is_variable = "path" in value
        return {k: without_variable_names(v) for k, v in value.items() if not (is_variable and k in ("path", "name"))}
    if isinstance(value, list):
        return [without_variable_names(v) for v in value]
    return value
