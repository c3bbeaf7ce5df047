"""export --saved-model: the model as a TensorFlow SavedModel in the bundle (saved_model.py), whose
`serve` endpoint computes what Keras computes, or a record of why it was not written."""
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
    assert record == {
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
