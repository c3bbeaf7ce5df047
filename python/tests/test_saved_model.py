"""export --saved-model: the model as a TensorFlow SavedModel in the bundle (saved_model.py), whose
`serve` endpoint computes what Keras computes and whose `gradients` endpoint computes the goldens'
gradients from the weights fed to it (gradients_endpoint.py), or a record of why either was not written."""
import json

import numpy as np
import pytest
import tensorflow as tf

import keras
import keras_bridge
from bundle_io import read_bundle
from conftest import build_seed_model


def _export(tmp_path, model, name):
    return read_bundle(keras_bridge.export(model, tmp_path / name, seed=0, batch_size=2, saved_model=True))


@pytest.mark.parametrize("name", ["swish", "temporal"])
def test_the_saved_model_serves_what_keras_computes_on_the_golden_inputs(tmp_path, name):
    model = build_seed_model(name)
    bundle = _export(tmp_path, model, name)
    record = bundle.manifest["saved_model"]
    assert {k: v for k, v in record.items() if k != "gradients"} == {
        "status": "exported",
        "dir": "saved_model",
        "endpoint": "serve",
        "inputs": [i["name"] for i in bundle.manifest["inputs"]],
        "outputs": [f"output_{i}" for i in range(len(model.outputs))],
    }
    assert (bundle.path / "saved_model" / "saved_model.pb").is_file()
    loaded = tf.saved_model.load(str(bundle.path / "saved_model"))
    serve = loaded.signatures["serve"]
    inputs = bundle.goldens("input")
    served = serve(**{name: tf.constant(x) for name, x in zip(record["inputs"], inputs)})
    expected = model(inputs[0] if len(inputs) == 1 else list(inputs), training=False)
    np.testing.assert_allclose(served["output_0"].numpy(), keras.ops.convert_to_numpy(expected), rtol=1e-6, atol=1e-6)
    # The goldens the bundle records for the output are what it serves.
    np.testing.assert_allclose(served["output_0"].numpy(), bundle.golden("output", index=0), rtol=1e-6, atol=1e-6)

def test_a_model_that_calls_back_into_python_gets_no_saved_model_and_says_why(tmp_path):
    bundle = _export(tmp_path, build_seed_model("risk"), "risk")
    record = bundle.manifest["saved_model"]
    assert record["status"] == "skipped"
    assert record["reason"].startswith("Keras could not export the model as a SavedModel (") or "calls back into Python" in record["reason"]
    assert not (bundle.path / "saved_model").exists()


def test_without_the_option_the_bundle_has_neither(seed_exports):
    bundle = seed_exports["swish"].bundle
    assert "saved_model" not in bundle.manifest
    assert not (bundle.path / "saved_model").exists()
    json.dumps(bundle.manifest)


def _gradients_call(bundle, weights=None):
    """The bundle's `gradients` endpoint fed its golden inputs, cotangents and (its own, unless given) weights."""
    record = bundle.manifest["saved_model"]["gradients"]
    loaded = tf.saved_model.load(str(bundle.path / "saved_model"))
    inputs = bundle.goldens("input")
    cotangents = bundle.goldens("cotangent")
    weights = bundle.weights() if weights is None else weights
    feeds = {name: tf.constant(x) for name, x in zip(bundle.manifest["saved_model"]["inputs"], inputs)}
    feeds.update({c["name"]: tf.constant(cotangents[c["output"]]) for c in record["cotangents"]})
    feeds.update({name: tf.constant(w) for name, w in zip(record["weights"], weights)})
    return record, loaded.signatures[record["endpoint"]](**feeds)


def _embedding_classifier():
    """An integer input (no gradient), a float input, a BatchNormalization (non-trainable weights), two outputs."""
    keras.utils.set_random_seed(3)
    tokens = keras.Input((5,), dtype="int32", name="tokens")
    features = keras.Input((4,), name="features")
    embedded = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(11, 4)(tokens))
    hidden = keras.layers.BatchNormalization()(keras.layers.Dense(6, activation="tanh")(keras.layers.Concatenate()([embedded, features])))
    return keras.Model([tokens, features], [keras.layers.Dense(3, name="logits")(hidden), keras.layers.Dense(1, name="score")(hidden)])


@pytest.mark.parametrize("name", ["swish", "temporal", "embedding_classifier"])
def test_the_gradients_endpoint_computes_the_goldens_gradients_from_the_weights_fed_to_it(tmp_path, name):
    model = _embedding_classifier() if name == "embedding_classifier" else build_seed_model(name)
    bundle = _export(tmp_path, model, name)
    record, result = _gradients_call(bundle)
    weights = bundle.manifest["weights"]
    float_inputs = [i for i, spec in enumerate(bundle.manifest["inputs"]) if spec["dtype"] == "float32"]
    assert record["status"] == "exported"
    assert record["weights"] == [f"weight_{k}" for k in range(len(weights))]
    assert [g["input"] for g in record["grad_inputs"]] == float_inputs
    assert [g["weight"] for g in record["grad_weights"]] == [k for k, w in enumerate(weights) if w["trainable"]]
    for i, output in enumerate(bundle.goldens("output")):
        np.testing.assert_allclose(result[f"output_{i}"].numpy(), output, rtol=1e-5, atol=1e-6)
    for g in record["grad_inputs"]:
        expected = bundle.golden("grad_input", index=g["input"])
        np.testing.assert_allclose(result[g["name"]].numpy(), expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())
    for g in record["grad_weights"]:
        w = weights[g["weight"]]
        expected = bundle.golden("grad_weight", layer=w["layer"], index=w["index"])
        np.testing.assert_allclose(result[g["name"]].numpy(), expected, rtol=1e-4, atol=1e-5 * max(np.abs(expected).max(), 1e-6))


def test_the_gradients_endpoint_uses_the_weights_fed_not_the_saved_ones(tmp_path):
    model = _embedding_classifier()
    bundle = _export(tmp_path, model, "embedding_classifier")
    # Other weights, moving statistics included: what Keras computes with them set on the model.
    rng = np.random.default_rng(5)
    other = [(w + rng.normal(0, 0.3, w.shape).astype(w.dtype)) if w.dtype.kind == "f" else w for w in bundle.weights()]
    other = [np.abs(w) + 0.5 if "variance" in spec["path"] else w for w, spec in zip(other, bundle.manifest["weights"])]
    _, result = _gradients_call(bundle, other)
    model.set_weights(other)
    inputs = [tf.constant(x) for x in bundle.goldens("input")]
    cotangents = bundle.goldens("cotangent")
    with tf.GradientTape() as tape:
        outputs = model(inputs, training=False)
        loss = tf.add_n([tf.reduce_sum(o * c) for o, c in zip(outputs, cotangents)])
    expected = tape.gradient(loss, model.trainable_weights)
    for i, output in enumerate(outputs):
        np.testing.assert_allclose(result[f"output_{i}"].numpy(), output.numpy(), rtol=1e-5, atol=1e-6)
    trainable = [k for k, w in enumerate(bundle.manifest["weights"]) if w["trainable"]]
    for k, g in zip(trainable, expected):
        np.testing.assert_allclose(result[f"grad_weight_{k}"].numpy(), tf.convert_to_tensor(g).numpy(), rtol=1e-4, atol=1e-6)
    # And those are not the bundle's own gradients.
    assert not np.allclose(result[f"output_0"].numpy(), bundle.golden("output", index=0))


def test_a_model_with_no_float_output_keeps_serve_and_says_why_it_has_no_gradients(tmp_path):
    keras.utils.set_random_seed(0)
    x = keras.Input((4,))
    model = keras.Model(x, keras.ops.argmax(keras.layers.Dense(3)(x), axis=-1))
    bundle = _export(tmp_path, model, "argmax")
    record = bundle.manifest["saved_model"]
    assert record["status"] == "exported"
    assert record["gradients"] == {"status": "skipped", "reason": "the model has no float output, so the loss has no term"}
    loaded = tf.saved_model.load(str(bundle.path / "saved_model"))
    assert "serve" in loaded.signatures and "gradients" not in loaded.signatures
