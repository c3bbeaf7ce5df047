"""fixtures/models/user_layers.py, the custom-layer corpus for issue 11: every factory builds, runs
forward (inference and training), survives model.save/.keras reload when its classes can be
rebuilt from their config, and exports through the real CLI (`python -m keras_bridge export
--factory user_layers:NAME`); each bundle's goldens are what the factory's model computes.

For the layers that should not be convertible the tests check what the exporter records about
them today: the Python-only findings of its static analysis (python_only.py) for the two that are
Python-only, and the class source the converter will read for the two whose gap is an op tfjs lacks
(static analysis rightly calls those not Python-only; the gap is for convert to name).
"""
from __future__ import annotations

import inspect
import os
import subprocess
import sys

import numpy as np
import pytest

import keras
from bundle_io import read_bundle
from conftest import PYTHON_DIR, REPO_ROOT

MODELS_DIR = REPO_ROOT / "fixtures" / "models"
if str(MODELS_DIR) not in sys.path:
    sys.path.insert(0, str(MODELS_DIR))

import user_layers  # noqa: E402

FACTORIES = {**user_layers.CONVERTIBLE_FACTORIES, **user_layers.GAP_FACTORIES}
CUSTOM_OBJECTS = {
    name: obj
    for name, obj in vars(user_layers).items()
    if isinstance(obj, type) and issubclass(obj, keras.layers.Layer) and obj.__module__ == "user_layers"
}
# What python_only.py must find in each gap layer that is Python-only, by the construct and the
# line's code (read from the source below, not typed twice).
PYTHON_ONLY_GAPS = {
    "NumpyMedianSmoothing": ("py_function", "tf.py_function("),
    "SignDependentActivation": ("if_on_tensor", "if tf.reduce_mean(x) > 0:"),
}
# The gap layers whose reason is an op tfjs has no kernel for, and the call that is it.
OP_GAPS = {"SVDWhitening": "tf.linalg.svd(", "HashedCategory": "tf.strings."}


def build(name: str, seed: int = 0) -> keras.Model:
    """What `--factory user_layers:<name> --seed <seed>` builds."""
    keras.utils.set_random_seed(seed)
    return getattr(user_layers, name)()


def sample_inputs(model: keras.Model, batch: int = 2, seed: int = 1) -> list:
    rng = np.random.default_rng(seed)
    values = []
    for tensor in model.inputs:
        shape = (batch, *tensor.shape[1:])
        if "int" in str(tensor.dtype):
            ids = rng.integers(1, user_layers.VOCAB, shape)
            ids[:, -2:] = 0  # padding, so that the Embedding(mask_zero=True) mask matters
            values.append(ids.astype(tensor.dtype))
        else:
            values.append(rng.normal(size=shape).astype("float32"))
    return values


def call(model, values, **kwargs):
    outputs = model(values if len(values) > 1 else values[0], **kwargs)
    return [np.asarray(o) for o in keras.tree.flatten(outputs)]


def test_the_corpus_is_as_large_and_varied_as_issue_11_asks():
    convertible = set().union(*user_layers.CONVERTIBLE_FACTORIES.values())
    gaps = set().union(*user_layers.GAP_FACTORIES.values())
    assert len(convertible) >= 18 and len(gaps) >= 3 and not convertible & gaps
    assert convertible | gaps == set(CUSTOM_OBJECTS.values()), "every layer of the module is in a factory"
    assert set(PYTHON_ONLY_GAPS) | set(OP_GAPS) == {cls.__name__ for cls in gaps}
    assert any("get_config" not in vars(cls) and len(inspect.signature(cls).parameters) > 1 for cls in convertible), (
        "one layer with constructor arguments forgets get_config, as users do"
    )
    assert any("register_keras_serializable" not in inspect.getsource(cls) for cls in convertible)
    assert any("register_keras_serializable" in inspect.getsource(cls) for cls in convertible)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_builds_runs_and_is_small(name):
    model = build(name)
    assert 0 < model.count_params() <= 5000
    assert set(FACTORIES[name]) <= {type(layer) for layer in model._flatten_layers(include_self=False)}
    values = sample_inputs(model)
    inference = call(model, values)
    assert all(np.isfinite(o).all() for o in inference)
    training = call(model, values, training=True)
    assert [o.shape for o in training] == [o.shape for o in inference]


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_keras_file_round_trip(name, tmp_path):
    model = build(name)
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras", custom_objects=CUSTOM_OBJECTS, compile=False)
    values = sample_inputs(model)
    for before, after in zip(call(model, values), call(reloaded, values), strict=True):
        np.testing.assert_allclose(after, before, rtol=1e-6, atol=1e-6)


def test_a_layer_without_get_config_still_saves_its_arguments():
    """Keras 3 records a layer's constructor arguments when they are plain values (Operation's
    auto-config), so FourierFeatures(num_frequencies=2) reloads without a get_config of its own."""
    layer = user_layers.FourierFeatures(num_frequencies=2)
    assert "get_config" not in vars(user_layers.FourierFeatures)
    assert layer.get_config()["num_frequencies"] == 2
    assert user_layers.FourierFeatures.from_config(layer.get_config()).num_frequencies == 2


def export_cli(name: str, out) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PYTHON_DIR), "TF_CPP_MIN_LOG_LEVEL": "3"}
    argv = [sys.executable, "-m", "keras_bridge", "export", "--factory", f"user_layers:{name}",
            "--path", "fixtures/models", "--out", str(out)]
    return subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)


class Exports(dict):
    """Each factory exported once by the real CLI (about 4 s each), when a test first asks for
    it, so that a factory whose export fails fails its own tests only."""

    def __init__(self, root):
        super().__init__()
        self.root = root

    def __missing__(self, name):
        result = export_cli(name, self.root / name)
        assert result.returncode == 0, f"{name}: export exited {result.returncode}\n{result.stderr[-3000:]}"
        assert result.stdout.strip() == str(self.root / name)
        self[name] = read_bundle(self.root / name)
        return self[name]


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    return Exports(tmp_path_factory.mktemp("user-layer-bundles"))


def custom_record(bundle, cls) -> dict:
    found = [c for c in bundle.manifest["custom_layers"] if c["class_name"] == cls.__name__]
    assert len(found) == 1, (cls.__name__, [c["class_name"] for c in bundle.manifest["custom_layers"]])
    return found[0]


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_export_records_every_custom_class_with_its_source(bundles, name):
    bundle = bundles[name]
    model = build(name)
    for cls in FACTORIES[name]:
        record = custom_record(bundle, cls)
        assert record["module"] == "user_layers"
        assert record["source"]["file"] == "user_layers.py"
        assert record["source"]["text"] == inspect.getsource(cls)
        assert record["python_only"]["unanalyzed"] is None
        # Layers nested in another custom layer keep Keras's per-process auto-names (rms_norm_4 here,
        # rms_norm in the exporter's process): compare the model's own layers by name, all by count.
        held = [layer for layer in model._flatten_layers(include_self=False) if type(layer) is cls]
        top_level = {layer.name for layer in model.layers if type(layer) is cls}
        assert len(record["layers"]) == len(held) and top_level <= set(record["layers"])
        assert sorted(r["layer"] for r in record["retraces"]) == sorted(record["layers"])


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_goldens_are_what_the_factory_model_computes(bundles, name):
    bundle = bundles[name]
    model = build(name)
    inputs = [bundle.golden("input", index=i) for i in range(len(model.inputs))]
    outputs = [bundle.golden("output", index=i) for i in range(len(model.outputs))]
    for expected, got in zip(outputs, call(model, inputs), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(user_layers.CONVERTIBLE_FACTORIES))
def test_convertible_layers_have_no_python_only_construct(bundles, name):
    for cls in FACTORIES[name]:
        assert custom_record(bundles[name], cls)["python_only"]["findings"] == []


@pytest.mark.parametrize("cls_name", sorted(PYTHON_ONLY_GAPS))
def test_python_only_gaps_are_recorded_with_their_line(bundles, cls_name):
    cls = CUSTOM_OBJECTS[cls_name]
    [name] = [n for n, held in user_layers.GAP_FACTORIES.items() if cls in held]
    construct, code = PYTHON_ONLY_GAPS[cls_name]
    source, first = inspect.getsourcelines(cls)
    [line] = [first + i for i, text in enumerate(source) if code in text]
    findings = custom_record(bundles[name], cls)["python_only"]["findings"]
    assert [(f["construct"], f["file"], f["line"]) for f in findings] == [(construct, "user_layers.py", line)]
    assert code in findings[0]["code"]


@pytest.mark.parametrize("cls_name", sorted(OP_GAPS))
def test_op_gaps_are_not_called_python_only_and_their_op_is_in_the_recorded_source(bundles, cls_name):
    cls = CUSTOM_OBJECTS[cls_name]
    [name] = [n for n, held in user_layers.GAP_FACTORIES.items() if cls in held]
    record = custom_record(bundles[name], cls)
    assert record["python_only"]["findings"] == []
    assert OP_GAPS[cls_name] in record["source"]["text"]
