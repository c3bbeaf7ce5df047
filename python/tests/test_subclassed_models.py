"""Subclassed functional models (fixtures/models/subclassed_models.py): the exporter records their
layer graph, and refuses the ones that have none (own call())."""
import sys

import numpy as np
import pytest

from conftest import REPO_ROOT
from bundle_io import read_bundle, unpack
from keras_bridge import export
from keras_bridge._tf import keras
from keras_bridge.errors import ExportError

sys.path.insert(0, str(REPO_ROOT / "fixtures" / "models"))
import subclassed_models  # noqa: E402


def _built(factory):
    keras.utils.set_random_seed(0)
    return factory()


def _entries(config: dict, path=()):
    """(path, entry) for every layer entry of a model config, nested models' too."""
    for entry in config["config"].get("layers", []):
        name = entry.get("name") or entry["config"].get("name")
        yield (*path, name), entry
        if isinstance(entry.get("config"), dict) and "layers" in entry["config"]:
            yield from _entries(entry, (*path, name))


@pytest.fixture(scope="module")
def wrapper_bundle(tmp_path_factory):
    """A plain functional model around TinyClassifier, itself around TinyBackbone: two nested recorded graphs."""
    return read_bundle(export(_built(subclassed_models.classifier_in_functional), tmp_path_factory.mktemp("b") / "wrapper", training_mode=False))


def test_the_recorded_graph_replaces_every_subclassed_model_and_keeps_its_class(wrapper_bundle):
    config = wrapper_bundle.config
    assert config["class_name"] == "Functional" and "subclassed_model" not in config
    entries = dict(_entries(config))
    classifier, backbone = entries[("classifier",)], entries[("classifier", "backbone")]
    for entry, cls, fields in ((classifier, "TinyClassifier", {"backbone", "num_classes"}), (backbone, "TinyBackbone", {"depth", "hidden_dim"})):
        assert entry["class_name"] == "Functional" and entry["registered_name"] == "Functional"
        assert {"layers", "input_layers", "output_layers"} <= set(entry["config"])
        original = entry["subclassed_model"]
        assert (original["class_name"], original["registered_name"], original["module"]) == (cls, f"tinylib>{cls}", "subclassed_models")
        assert fields <= set(original["config"]), original["config"]  # the constructor config, for reference
    # The graph's own layers and operation nodes are there, inside the nested one.
    assert [p[-1] for p in entries if p[:2] == ("classifier", "backbone") and len(p) == 3][:4] == ["features", "projection", "block_0_dense", "block_0_dropout"]
    # The `x + h` operation node (named add, add_1, ... by Keras's per-process counter: found by class).
    assert any(e["class_name"] == "Add" and p[:2] == ("classifier", "backbone") for p, e in entries.items())
    # Converted, not written in TypeScript: no custom layers; the manifest says what the layer was.
    assert wrapper_bundle.manifest["custom_layers"] == []
    record = next(layer for layer in wrapper_bundle.manifest["layers"] if layer["name"] == "classifier")
    assert (record["class_name"], record["custom"], record["subclassed_model"]["class_name"]) == ("Functional", False, "TinyClassifier")
    assert record["config"] == classifier["config"]


def _rebuilt_computes_the_goldens(bundle, own_module: str) -> None:
    """The config, the weights (manifest `layer` and `index`) and the goldens describe one model:
    the one Keras builds from model.keras.json alone, with no subclass in sight."""
    model = keras.saving.deserialize_keras_object(bundle.config, safe_mode=True)
    assert not any(type(layer).__module__ == own_module for layer in model._flatten_layers())
    stored = {(w["layer"], w["index"]): unpack(bundle.weights_bin, w) for w in bundle.manifest["weights"]}
    rebuilt = {(layer.name, i): v for layer in model.layers for i, v in enumerate(layer.weights)}
    assert sorted(stored) == sorted(rebuilt)
    for key, variable in rebuilt.items():
        variable.assign(stored[key])
    outputs = model(bundle.golden("input", index=0), training=False)
    np.testing.assert_allclose(np.asarray(outputs), bundle.golden("output", index=0), rtol=1e-6, atol=1e-6)


def test_keras_rebuilds_the_recorded_config_and_with_the_bundle_weights_computes_the_goldens(wrapper_bundle):
    _rebuilt_computes_the_goldens(wrapper_bundle, "subclassed_models")


class TwoLayerStack(keras.Sequential):
    """A keras.Sequential subclass: its config is constructor arguments too."""

    def __init__(self, units=4, **kwargs):
        super().__init__([keras.Input((3,)), keras.layers.Dense(units, activation="relu", name="h"), keras.layers.Dense(1, name="o")], **kwargs)
        self.units = units

    def get_config(self):
        return {"name": self.name, "units": self.units}


def test_a_sequential_subclass_is_recorded_the_same_way(tmp_path):
    bundle = read_bundle(export(_built(lambda: TwoLayerStack(name="stack")), tmp_path / "stack", training_mode=False))
    assert (bundle.config["class_name"], bundle.config["subclassed_model"]["class_name"]) == ("Functional", "TwoLayerStack")
    assert bundle.config["subclassed_model"]["config"] == {"name": "stack", "units": 4}
    _rebuilt_computes_the_goldens(bundle, __name__)


def test_a_top_level_subclassed_model_exports_its_graph_and_says_what_it_was(tmp_path):
    bundle = read_bundle(export(_built(subclassed_models.siamese_scorer), tmp_path / "siamese", training_mode=False))
    assert bundle.manifest["model"] == {
        "name": "siamese_scorer",
        "class_name": "Functional",
        "config_file": "model.keras.json",
        "subclassed_model": {"class_name": "SiameseScorer", "registered_name": "tinylib>SiameseScorer", "module": "subclassed_models"},
    }
    assert bundle.config["subclassed_model"]["config"] == {"name": "siamese_scorer", "feature_dim": 5, "embed_dim": 4}
    # The shared layer keeps its two nodes; the inputs keep their order.
    shared = dict(_entries(bundle.config))[("shared_embed",)]
    assert len(shared["inbound_nodes"]) == 2
    assert [i["name"] for i in bundle.manifest["inputs"]] == ["left", "right"]


def test_an_imperative_subclass_is_refused_naming_its_class_and_what_works(tmp_path):
    with pytest.raises(ExportError) as raised:
        export(_built(subclassed_models.imperative_net), tmp_path / "b")
    message = str(raised.value)
    assert "model 'imperative_net' is a subclassed keras.Model with its own call(), class ImperativeNet (module 'subclassed_models')" in message
    assert "super().__init__(inputs, outputs)" in message and "register a TypeScript implementation" in message
    assert not (tmp_path / "b").exists()


def test_dict_inputs_export_named_by_key_in_kerass_flattened_order(tmp_path):
    model = _built(subclassed_models.dict_input_scorer)
    bundle = read_bundle(export(model, tmp_path / "b"))
    assert [i["name"] for i in bundle.manifest["inputs"]] == ["a", "b"]
    assert bundle.manifest["model"]["structure"] == {"inputs": {"kind": "dict", "keys": ["a", "b"]}}
    assert set(bundle.config["config"]["input_layers"]) == {"a", "b"}  # the dict, as Keras wrote it
    a, b = bundle.golden("input", name="a"), bundle.golden("input", name="b")
    np.testing.assert_array_equal(bundle.golden("output", index=0), model({"a": a, "b": b}).numpy())


class OverridingCall(keras.Model):
    """Functional underneath, but its call() is its own: the graph need not be what it computes."""

    def __init__(self, **kwargs):
        x = keras.Input((3,))
        super().__init__(x, keras.layers.Dense(2, name="d")(x), **kwargs)

    def call(self, inputs, training=None, mask=None):
        return super().call(inputs, training=training, mask=mask) * 2.0


def test_a_functional_subclass_that_overrides_call_is_refused(tmp_path):
    with pytest.raises(ExportError, match=r"model 'overriding' is a subclassed functional model, class OverridingCall .*OverridingCall overrides call\(\)"):
        export(OverridingCall(name="overriding"), tmp_path / "b")


def test_a_nested_subclass_that_cannot_be_recorded_is_refused_before_anything_is_computed(tmp_path):
    inner = OverridingCall(name="scorer")
    x = keras.Input((3,), name="x")
    outer = keras.Model(x, inner(x), name="outer")
    with pytest.raises(ExportError, match=r"layer 'scorer' of model 'outer' is a subclassed functional model, class OverridingCall"):
        export(outer, tmp_path / "b")
