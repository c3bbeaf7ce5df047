"""What a bundle of each seed model holds, checked against the live Keras model."""
import json
import platform

import numpy as np
import pytest
import tensorflow as tf

import keras
import seed_models
from bundle_io import BUNDLE_FILES, leftovers
from conftest import SEED_DIR

SEEDS = list(seed_models.SEED_MODELS)
CUSTOM_CLASS = {"swish": "SwishActivation", "temporal": "TemporalWeighting", "risk": "CustomRiskLayer"}


@pytest.fixture(params=SEEDS)
def seed(request, seed_exports):
    return seed_exports[request.param]


def test_bundle_holds_exactly_the_four_files(seed):
    assert {p.name for p in seed.bundle.path.iterdir()} == BUNDLE_FILES
    assert leftovers(seed.bundle.path.parent) == []


def test_json_files_are_indented_utf8_with_trailing_newline(seed):
    for name in ("manifest.json", "model.keras.json"):
        text = (seed.bundle.path / name).read_bytes().decode("utf-8")
        assert text.endswith("}\n")
        assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


def test_manifest_header(seed):
    m, model = seed.bundle.manifest, seed.model
    assert m["format"] == "keras-bridge-bundle"
    assert m["format_version"] == 1
    assert m["producer"] == {
        "keras_bridge": "0.1.0",
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }
    assert m["model"] == {"name": model.name, "class_name": "Sequential", "config_file": "model.keras.json"}
    assert m["seed"] == 0 and m["batch_size"] == 2
    input_layer = model.inputs[0]._keras_history.operation
    assert m["inputs"] == [{"name": input_layer.name, "shape": [None, 10], "dtype": "float32"}]
    assert m["outputs"] == [{"name": model.layers[-1].name, "shape": [None, 1], "dtype": "float32"}]


def test_model_config_is_keras_serialization(seed):
    assert seed.bundle.config == json.loads(json.dumps(keras.saving.serialize_keras_object(seed.model)))


def test_layer_records(seed):
    model, records = seed.model, seed.bundle.manifest["layers"]
    assert [r["name"] for r in records] == [layer.name for layer in model.layers]
    for layer, record in zip(model.layers, records):
        node = layer._inbound_nodes[0]
        custom = type(layer).__module__ == "seed_models"
        assert record["class_name"] == type(layer).__name__
        assert record["module"] == type(layer).__module__
        assert record["custom"] is custom
        assert record["registered_name"] == keras.saving.get_registered_name(type(layer))
        assert record["config"] == json.loads(json.dumps(layer.get_config()))
        assert record["input_shapes"] == [list(t.shape) for t in node.input_tensors]
        assert record["output_shapes"] == [list(t.shape) for t in node.output_tensors]
        assert [w["path"] for w in record["weights"]] == [w.path for w in layer.weights]
        for w, wr in zip(layer.weights, record["weights"]):
            assert wr == {"name": w.name, "path": w.path, "shape": list(w.shape), "dtype": w.dtype, "trainable": w.trainable}
        risky = type(layer).__name__ == "CustomRiskLayer"
        assert record["python_differentiable"] is (not risky)
        assert record["non_differentiable_ops"] == (["EagerPyFunc"] if risky else [])


def test_custom_layer_records(seed):
    cls = CUSTOM_CLASS[seed.name]
    names = [layer.name for layer in seed.model.layers if type(layer).__name__ == cls]
    [record] = seed.bundle.manifest["custom_layers"]
    assert {k: record[k] for k in ("class_name", "registered_name", "module", "layers")} == {
        "class_name": cls, "registered_name": cls, "module": "seed_models", "layers": names
    }
    # Exported from Python without source_roots: relative to where the module was imported from,
    # as the CLI's --path export records it (test_class_sources.py has the rest).
    assert record["source"]["file"] == "seed_models.py"
    assert record["python_only"]["unanalyzed"] is None


def test_weights_are_packed_in_model_weights_order(seed):
    model, bundle = seed.model, seed.bundle
    records = bundle.manifest["weights"]
    assert [r["path"] for r in records] == [w.path for w in model.weights]
    offset = 0
    for record, weight in zip(records, model.weights):
        layer = bundle.manifest["layers"][[r["name"] for r in bundle.manifest["layers"]].index(record["layer"])]
        assert layer["weights"][record["index"]]["path"] == weight.path
        assert record["offset"] == offset
        assert record["byte_length"] == int(np.prod(weight.shape)) * 4
        assert record["shape"] == list(weight.shape) and record["dtype"] == "float32"
        offset += record["byte_length"]
    assert offset == len(bundle.weights_bin)
    for array, weight in zip(bundle.weights(), model.weights):
        np.testing.assert_array_equal(array, weight.numpy())


def test_golden_tensors_are_packed_back_to_back(seed):
    bundle = seed.bundle
    offset = 0
    for record in bundle.tensors:
        assert record["offset"] == offset
        offset += record["byte_length"]
        assert record["source"] in {"keras", "autodiff", "finite_difference"}
        assert "reference_error" in record
    assert offset == len(bundle.goldens_bin)
    kinds = [t["kind"] for t in bundle.tensors]
    order = ["input", "output", "cotangent", "layer_output", "grad_input", "grad_weight", "grad_layer_output"]
    assert kinds == sorted(kinds, key=order.index)


def test_goldens_shapes_and_values(seed):
    model, bundle = seed.model, seed.bundle
    (x,) = bundle.goldens("input")
    assert x.shape == (2, 10) and x.dtype == np.float32
    np.testing.assert_array_equal(x, np.random.default_rng(0).standard_normal((2, 10), dtype=np.float32))

    (y,) = bundle.goldens("output")
    np.testing.assert_allclose(y, model(x, training=False).numpy(), rtol=1e-6, atol=1e-7)

    (cot,) = bundle.goldens("cotangent")
    rng = np.random.default_rng(0)
    rng.standard_normal((2, 10), dtype=np.float32)
    np.testing.assert_array_equal(cot, rng.standard_normal(y.shape, dtype=np.float32))

    for layer in model.layers:
        (node_output,) = layer._inbound_nodes[0].output_tensors
        golden = bundle.golden("layer_output", layer=layer.name, node=0, index=0)
        assert list(golden.shape) == [2] + list(node_output.shape)[1:]
    np.testing.assert_array_equal(bundle.golden("layer_output", layer=model.layers[-1].name, index=0), y)

    loss = bundle.manifest["goldens"]["loss"]
    assert loss["definition"] == "sum over outputs i of sum(outputs[i] * cotangents[i])"
    assert loss["value"] == pytest.approx(float(np.sum(y.astype(np.float64) * cot)), rel=1e-6)

    (grad_x,) = bundle.goldens("grad_input")
    assert grad_x.shape == (2, 10)
    trainable = [w for w in model.weights if w.trainable]
    grad_records = bundle.records("grad_weight")
    assert [r["path"] for r in grad_records] == [w.path for w in trainable]
    for record, weight in zip(grad_records, trainable):
        assert record["shape"] == list(weight.shape)
        assert record["name"] == weight.name


@pytest.mark.parametrize("name", ["swish", "temporal"])  # risk: test_finite_difference.py
def test_autodiff_gradients_match_a_fresh_tape(name, seed_exports):
    model, bundle = seed_exports[name].model, seed_exports[name].bundle
    assert bundle.manifest["goldens"]["gradients"] == {
        "method": "autodiff",
        "finite_difference_layers": [],
        "finite_difference": None,
        "layer_output_gradients": {
            "policy": "auto",
            "included": True,
            "bytes": sum(r["byte_length"] for r in bundle.records("grad_layer_output")),
            "auto_limit_bytes": 1 << 20,
        },
    }
    x = tf.constant(bundle.golden("input", index=0))
    cot = tf.constant(bundle.golden("cotangent", index=0), tf.float64)
    trainable = [w for w in model.weights if w.trainable]
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(tf.cast(model(x, training=False), tf.float64) * cot)
    grads = tape.gradient(loss, [x] + trainable)
    goldens = bundle.goldens("grad_input") + bundle.goldens("grad_weight")
    for golden, grad in zip(goldens, grads):
        np.testing.assert_allclose(golden, grad.numpy(), rtol=1e-5, atol=1e-7)
    for record in bundle.records("grad_input") + bundle.records("grad_weight"):
        assert record["source"] == "autodiff" and record["reference_error"] is None


def test_model_config_rebuilds_the_model(seed):
    """model.keras.json + weights.bin reproduce the golden outputs in a fresh Keras model."""
    bundle = seed.bundle
    objects = {c["class_name"]: getattr(seed_models, c["class_name"]) for c in bundle.manifest["custom_layers"]}
    rebuilt = keras.saving.deserialize_keras_object(bundle.config, custom_objects=objects, safe_mode=True)
    # (Variable paths may lose the model prefix when Keras builds from a config: compare by order.)
    assert [list(w.shape) for w in rebuilt.weights] == [r["shape"] for r in bundle.manifest["weights"]]
    for weight, array in zip(rebuilt.weights, bundle.weights()):
        weight.assign(array)
    x = bundle.golden("input", index=0)
    np.testing.assert_allclose(rebuilt(x, training=False).numpy(), bundle.golden("output", index=0), rtol=1e-6, atol=1e-7)


def test_scalar_weights_keep_their_empty_shape(tmp_path):
    """A 0-d weight (e.g. Attention(use_scale=True)'s scale) is written with shape [], not [1]."""
    import json

    import keras

    import keras_bridge

    query = keras.Input((3, 4))
    value = keras.Input((2, 4))
    model = keras.Model([query, value], keras.layers.Attention(use_scale=True, name="attention")([query, value]))
    bundle = keras_bridge.export(model, tmp_path / "attention")
    manifest = json.loads((bundle / "manifest.json").read_text())
    scale = next(w for w in manifest["weights"] if w["layer"] == "attention")
    assert scale["shape"] == []
    assert scale["byte_length"] == 4
