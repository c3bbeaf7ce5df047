"""Differentiability detection, and finite-difference gradients checked against analytic ones."""
import numpy as np
import pytest
import tensorflow as tf

import keras
import keras_bridge
import seed_models
from bridge_test_models import LuFactor, MeanOverFeatures, NestedNumpyTanh, PyScale, Scale, two_branch_model
from bundle_io import read_bundle
from keras_bridge.differentiability import analyze_layer
from keras_bridge.finite_difference import FiniteDifferenceLayers, relative_step_for

# The largest |FD gradient - analytic gradient| accepted. The FD layers here are linear in the
# perturbed element, so the error is the float32 rounding of their outputs divided by 2h: a few
# 1e-6 for gradients of size 1e-2 (a 0.1% error in the scheme would already exceed it).
TOLERANCE = 1e-5


def _applied(layer, shape):
    """A layer called on a symbolic input, so that it has an inbound node 0 to trace."""
    layer(keras.Input(shape))
    return layer


@pytest.mark.parametrize(
    "layer, shape, differentiable, ops",
    [
        (lambda: seed_models.SwishActivation(), (8,), True, []),
        (lambda: seed_models.TemporalWeighting(3), (8,), True, []),
        (lambda: keras.layers.Dense(3, activation="relu"), (8,), True, []),
        (lambda: seed_models.CustomRiskLayer(), (8,), False, ["EagerPyFunc"]),
        (lambda: LuFactor(), (3, 3), False, ["Lu"]),
        (lambda: NestedNumpyTanh(), (5,), False, ["PyFunc"]),
    ],
    ids=["swish", "temporal", "dense", "risk", "lu-no-gradient", "pyfunc-in-nested-function"],
)
def test_detection(layer, shape, differentiable, ops):
    result = analyze_layer(_applied(layer(), shape))
    assert result.python_differentiable is differentiable
    assert result.non_differentiable_ops == ops
    assert result.trace_failure is None


def test_tape_through_custom_risk_layer_fails_without_finite_differences():
    """Why detection must come before taping: the tape does not return None, it raises."""
    model = seed_models.risk_model()
    x = tf.constant(np.ones((2, 10), np.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="ReluGrad"):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = model(x)
        tape.gradient(y, [x] + model.trainable_weights)


def test_relative_step_is_cube_root_of_machine_epsilon():
    assert relative_step_for("float32") == pytest.approx(np.finfo(np.float32).eps ** (1 / 3))
    assert relative_step_for("float64") == pytest.approx(np.finfo(np.float64).eps ** (1 / 3))


def test_wrapped_call_is_restored_even_after_an_error():
    layer = _applied(seed_models.CustomRiskLayer(), (4,))
    original = layer.call
    with pytest.raises(RuntimeError):
        with FiniteDifferenceLayers([layer]).installed():
            assert layer.call is not original and "call" in layer.__dict__
            raise RuntimeError("boom")
    assert "call" not in layer.__dict__
    assert layer.call == original


def _analytic_gradients(model, inputs, cotangents):
    """d/d(inputs, trainable weights) of sum_i sum(out_i * cot_i), by the tape, in float64 loss."""
    x = [tf.constant(a) for a in inputs]
    trainable = [w for w in model.weights if w.trainable]
    with tf.GradientTape() as tape:
        for t in x:
            tape.watch(t)
        outputs = model(x[0] if len(x) == 1 else x, training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        loss = tf.add_n([tf.reduce_sum(tf.cast(o, tf.float64) * tf.constant(c, tf.float64)) for o, c in zip(outputs, cotangents)])
    return float(loss.numpy()), [g.numpy() for g in tape.gradient(loss, x + trainable)]


def _max_gradient_error(bundle, analytic):
    goldens = bundle.goldens("grad_input") + bundle.goldens("grad_weight")
    assert len(goldens) == len(analytic)
    return max(float(np.max(np.abs(g.astype(np.float64) - a))) for g, a in zip(goldens, analytic))


def test_risk_model_finite_difference_gradients_match_analytic(seed_exports):
    """CustomRiskLayer is a mean over axis 1 (keepdims): a TF-native twin gives exact gradients."""
    export = seed_exports["risk"]
    bundle, model = export.bundle, export.model
    gradients = bundle.manifest["goldens"]["gradients"]
    assert gradients["method"] == "autodiff+finite_difference"
    assert gradients["finite_difference_layers"] == [model.layers[1].name]
    assert gradients["finite_difference"] == {
        "scheme": "central",
        "arithmetic_dtype": "float64",
        "evaluated_dtype": "float32",
        "relative_step": pytest.approx(relative_step_for("float32")),
    }

    twin = keras.Sequential(
        [keras.Input((10,)), keras.layers.Dense(64, activation="relu"), MeanOverFeatures(), keras.layers.Dense(1)]
    )
    twin.set_weights(model.get_weights())
    inputs, cotangents = bundle.goldens("input"), bundle.goldens("cotangent")
    loss, analytic = _analytic_gradients(twin, inputs, cotangents)
    assert bundle.manifest["goldens"]["loss"]["value"] == pytest.approx(loss, rel=1e-6)
    error = _max_gradient_error(bundle, analytic)
    reference_errors = [r["reference_error"] for r in bundle.records("grad_input") + bundle.records("grad_weight")]
    worst_reference = max(e for e in reference_errors if e is not None)
    print(f"\nrisk model: max |finite-difference - analytic| gradient = {error:.3g} (max reference_error {worst_reference:.3g})")
    assert error < TOLERANCE
    assert error <= 4 * worst_reference  # the recorded estimate is of the right size

    # Sources: the FD layer's upstream (input, first Dense) vs its downstream (last Dense).
    first, last = model.layers[0].name, model.layers[2].name
    records = bundle.records("grad_input") + bundle.records("grad_weight")
    for record in records:
        downstream = record.get("layer") == last
        assert record["source"] == ("autodiff" if downstream else "finite_difference"), record
        if downstream:
            assert record["reference_error"] is None
        else:
            assert 0 <= record["reference_error"] < TOLERANCE
    assert {r["layer"] for r in bundle.records("grad_weight")} == {first, last}


def test_finite_differences_through_weights_and_multiple_inputs_outputs(tmp_path):
    """PyScale (py_function with a trainable weight) inside a two-input, two-output model."""
    model = two_branch_model(PyScale)
    bundle = read_bundle(keras_bridge.export(model, tmp_path / "two", seed=3, batch_size=4))
    m = bundle.manifest
    assert [i["name"] for i in m["inputs"]] == ["in_a", "in_b"]
    assert [o["name"] for o in m["outputs"]] == ["out_1", "out_2"]
    assert m["goldens"]["gradients"]["finite_difference_layers"] == ["scale"]
    assert [c["class_name"] for c in m["custom_layers"]] == ["PyScale"]

    twin = two_branch_model(Scale)
    twin.set_weights(model.get_weights())
    _, analytic = _analytic_gradients(twin, bundle.goldens("input"), bundle.goldens("cotangent"))
    error = _max_gradient_error(bundle, analytic)
    print(f"\ntwo-branch model: max |finite-difference - analytic| gradient = {error:.3g}")
    assert error < TOLERANCE

    sources = {(r["kind"], r.get("name") if r["kind"] == "grad_input" else r["layer"], r.get("index")): r["source"]
               for r in bundle.records("grad_input") + bundle.records("grad_weight")}
    assert sources == {
        ("grad_input", "in_a", 0): "finite_difference",
        ("grad_input", "in_b", 1): "autodiff",
        ("grad_weight", "dense_a", 0): "finite_difference",
        ("grad_weight", "dense_a", 1): "finite_difference",
        ("grad_weight", "scale", 0): "finite_difference",
        ("grad_weight", "out_1", 0): "autodiff",
        ("grad_weight", "out_1", 1): "autodiff",
        ("grad_weight", "out_2", 0): "autodiff",
        ("grad_weight", "out_2", 1): "autodiff",
    }
    # The original layer is back in place after the export.
    assert "call" not in model.get_layer("scale").__dict__


def test_layer_itself_is_evaluated_when_no_float64_clone_can_be_made(tmp_path, monkeypatch):
    """The fallback path: f evaluated on the layer itself (float32), its weights perturbed in place."""
    from keras_bridge import finite_difference

    monkeypatch.setattr(finite_difference, "_float64_clone", lambda layer: None)
    model = two_branch_model(PyScale)
    weights_before = [w.numpy().copy() for w in model.weights]
    lines = []
    bundle = read_bundle(keras_bridge.export(model, tmp_path / "two", seed=4, progress=lines.append))
    assert any("float32 outputs from the layer itself" in line for line in lines), lines
    assert bundle.manifest["goldens"]["gradients"]["finite_difference"]["evaluated_dtype"] == "float32"
    for before, weight in zip(weights_before, model.weights):
        np.testing.assert_array_equal(before, weight.numpy())  # perturbations were undone

    twin = two_branch_model(Scale)
    twin.set_weights(model.get_weights())
    _, analytic = _analytic_gradients(twin, bundle.goldens("input"), bundle.goldens("cotangent"))
    assert _max_gradient_error(bundle, analytic) < TOLERANCE
