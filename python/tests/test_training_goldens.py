"""Training-mode goldens (random draws recorded for replay) and after-training goldens (weights
after N optimizer steps): what they hold, that they are what Keras computes, and that they are
deterministic."""
import re
import sys

import numpy as np
import pytest
import tensorflow as tf

import keras
import keras_bridge
from bundle_io import read_bundle, unpack
from conftest import REPO_ROOT, build_seed_model
from keras_bridge import cli
from keras_bridge.errors import ExportError

MODELS_DIR = str(REPO_ROOT / "fixtures" / "models")
if MODELS_DIR not in sys.path:
    sys.path.insert(0, MODELS_DIR)

import training_model  # noqa: E402


def build_training_model(seed: int = 0):
    keras.utils.set_random_seed(seed)
    return training_model.training_model()


def training(bundle) -> dict:
    return bundle.manifest["goldens"]["training"]


def training_golden(bundle, kind: str, **match) -> np.ndarray:
    found = [t for t in training(bundle)["tensors"] if t["kind"] == kind and all(t.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (kind, match, found)
    return unpack(bundle.goldens_bin, found[0])


def draw(bundle, layer: str) -> tuple:
    found = [d for d in training(bundle)["random_draws"]["draws"] if d["layer_path"] == [layer]]
    assert len(found) == 1, found
    return found[0], unpack(bundle.goldens_bin, found[0])


@pytest.fixture(scope="module")
def training_bundle(tmp_path_factory):
    path = tmp_path_factory.mktemp("training") / "b"
    return read_bundle(keras_bridge.export(build_training_model(), path, seed=0, batch_size=4, train_steps=2))


def test_training_mode_records_each_random_layer_call_and_the_weights_it_moved(training_bundle):
    section = training(training_bundle)
    draws = section["random_draws"]["draws"]
    assert [(d["layer_path"], d["call"], d["index"], d["function"]) for d in draws] == [
        (["dropout"], 0, 0, "dropout"),
        (["training_noise"], 0, 0, "normal"),
    ]
    assert draws[0]["parameters"] == {"rate": 0.3} and draws[0]["shape"] == [4, 16]
    assert draws[1]["parameters"] == {"mean": 0.0, "stddev": 0.2}
    assert section["random_draws"]["generator"] == "numpy.random.default_rng([0, 1])"
    kinds = {t["kind"] for t in section["tensors"]}
    assert kinds == {"output", "layer_output", "weight_after_pass", "grad_input", "grad_weight"}
    states = [(t["layer"], t["name"]) for t in section["tensors"] if t["kind"] == "weight_after_pass"]
    # Every non-trainable weight (the frozen layer's gamma and beta too), and any weight the pass moved.
    assert states == [("batch_norm", "moving_mean"), ("batch_norm", "moving_variance")] + [
        ("frozen_norm", name) for name in ("gamma", "beta", "moving_mean", "moving_variance")
    ]
    # The frozen one is as it was: Keras 3 runs a frozen BatchNormalization as at inference.
    frozen = training_golden(training_bundle, "weight_after_pass", layer="frozen_norm", name="moving_mean")
    np.testing.assert_array_equal(frozen, initial(training_bundle, "frozen_norm", 2))


def test_the_dropout_golden_is_keras_dropout_with_the_recorded_mask(training_bundle):
    record, u = draw(training_bundle, "dropout")
    before = training_golden(training_bundle, "layer_output", layer="batch_norm")
    after = training_golden(training_bundle, "layer_output", layer="dropout")
    keep = u >= np.float32(record["parameters"]["rate"])
    expected = np.where(keep, before * np.float32(1 / (1 - 0.3)), 0)
    np.testing.assert_array_equal(after, expected)
    assert 0 < keep.mean() < 1


def test_the_custom_layer_noise_is_its_keras_random_normal_draw(training_bundle):
    record, z = draw(training_bundle, "training_noise")
    before = training_golden(training_bundle, "layer_output", layer="dropout")
    after = training_golden(training_bundle, "layer_output", layer="training_noise")
    np.testing.assert_allclose(after, before + z * np.float32(0.2), rtol=0, atol=1e-6)


def test_batch_norm_uses_batch_statistics_and_moves_its_moving_ones(training_bundle):
    x = training_golden(training_bundle, "layer_output", layer="dense_in").astype(np.float64)
    y = training_golden(training_bundle, "layer_output", layer="batch_norm")
    mean, variance = x.mean(axis=0), x.var(axis=0)  # the biased variance, as Keras's ops.moments
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(variance + 1e-3), atol=2e-5)
    moving_mean = training_golden(training_bundle, "weight_after_pass", layer="batch_norm", name="moving_mean")
    initial = unpack(training_bundle.weights_bin, next(w for w in training_bundle.manifest["weights"] if w["path"].endswith("moving_mean")))
    np.testing.assert_allclose(moving_mean, initial * 0.99 + mean * 0.01, atol=1e-6)


def test_training_gradients_differ_from_inference_ones(training_bundle):
    inference = training_bundle.golden("grad_weight", layer="dense_in", index=0)
    trained = training_golden(training_bundle, "grad_weight", layer="dense_in", index=0)
    assert inference.shape == trained.shape and not np.allclose(inference, trained)


def test_exporting_twice_gives_identical_bytes_training_and_after_training_included(tmp_path):
    first = read_bundle(keras_bridge.export(build_training_model(), tmp_path / "a", seed=3, train_steps=2))
    second = read_bundle(keras_bridge.export(build_training_model(), tmp_path / "b", seed=3, train_steps=2))
    assert first.goldens_bin == second.goldens_bin
    assert training(first)["random_draws"] == training(second)["random_draws"]
    other = read_bundle(keras_bridge.export(build_training_model(), tmp_path / "c", seed=4, train_steps=2))
    _, mask_a = draw(first, "dropout")
    _, mask_c = draw(other, "dropout")
    assert not np.array_equal(mask_a, mask_c)


def test_the_inference_goldens_do_not_change_with_the_new_sections(tmp_path):
    model = build_training_model()
    plain = read_bundle(keras_bridge.export(model, tmp_path / "a", training_mode=False))
    full = read_bundle(keras_bridge.export(model, tmp_path / "b", train_steps=2))
    assert "training" not in plain.manifest["goldens"] and "after_training" not in plain.manifest["goldens"]
    assert full.goldens_bin[: len(plain.goldens_bin)] == plain.goldens_bin
    assert full.tensors == plain.tensors


def test_export_leaves_the_model_weights_as_they_were(tmp_path):
    model = build_training_model()
    before = [w.numpy().copy() for w in model.weights]
    keras_bridge.export(model, tmp_path / "b", train_steps=2)
    for old, weight in zip(before, model.weights):
        np.testing.assert_array_equal(old, weight.numpy())


def test_a_model_whose_training_mode_changes_nothing_has_no_training_section(seed_exports):
    assert "training" not in seed_exports["swish"].bundle.manifest["goldens"]


class TfRandomNoise(keras.layers.Layer):
    """Noise from tf.random, which keras-bridge cannot record."""

    def call(self, inputs, training=None):
        return inputs + tf.random.normal(tf.shape(inputs)) if training else inputs


class ShufflingLayer(keras.layers.Layer):
    def call(self, inputs, training=None):
        return keras.random.shuffle(inputs, axis=1) if training else inputs


def noisy_model(layer_class):
    inputs = keras.Input((5,))
    return keras.Model(inputs, keras.layers.Dense(2)(layer_class(name="noise")(keras.layers.Dense(5)(inputs))))


@pytest.mark.parametrize(
    "layer, global_seed, reason",
    [
        # Without a global seed TensorFlow refuses tf.random under op determinism; with one, the
        # draws differ between the recording pass and the replaying pass.
        (TfRandomNoise, None, r"calling TfRandomNoise.call\(\).*which keras-bridge cannot record; use keras.random"),
        (TfRandomNoise, 5, r"layer 'noise' differs between two passes .* outside keras.random"),
        (ShufflingLayer, None, r"keras.random.shuffle \(keras-bridge records only dropout, uniform, normal, truncated_normal\)"),
    ],
)
def test_randomness_keras_bridge_cannot_record_skips_training_mode_with_why(layer, global_seed, reason, tmp_path):
    model = noisy_model(layer)
    tf.random.set_seed(global_seed)
    try:
        bundle = read_bundle(keras_bridge.export(model, tmp_path / "b"))
    finally:
        tf.random.set_seed(None)
    assert set(training(bundle)) == {"skipped"}
    assert re.search(reason, training(bundle)["skipped"]), training(bundle)["skipped"]


def test_spatial_dropout_gaussian_and_alpha_dropout_draws(tmp_path):
    inputs = keras.Input((4, 3))
    x = keras.layers.SpatialDropout1D(0.5, name="spatial")(inputs)
    x = keras.layers.GaussianNoise(0.3, name="gaussian_noise")(x)
    x = keras.layers.GaussianDropout(0.2, name="gaussian_dropout")(x)
    x = keras.layers.AlphaDropout(0.2, name="alpha")(x)
    bundle = read_bundle(keras_bridge.export(keras.Model(inputs, x), tmp_path / "b"))
    draws = {d["layer_path"][0]: (d["function"], d["shape"]) for d in training(bundle)["random_draws"]["draws"]}
    assert draws == {
        "spatial": ("dropout", [2, 1, 3]),
        "gaussian_noise": ("normal", [2, 4, 3]),
        "gaussian_dropout": ("normal", [2, 4, 3]),
        "alpha": ("uniform", [2, 4, 3]),
    }


# ----- after training ---------------------------------------------------------------------


def runs(bundle) -> dict:
    return {run["optimizer"]: run for run in bundle.manifest["goldens"]["after_training"]["runs"]}


def trained(bundle, optimizer: str, layer: str, index: int) -> np.ndarray:
    record = next(t for t in runs(bundle)[optimizer]["tensors"] if t["layer"] == layer and t["index"] == index)
    return unpack(bundle.goldens_bin, record)


def initial(bundle, layer: str, index: int) -> np.ndarray:
    return unpack(bundle.weights_bin, next(w for w in bundle.manifest["weights"] if w["layer"] == layer and w["index"] == index))


def test_after_training_records_every_trainable_weight_per_optimizer_and_its_config(training_bundle):
    section = training_bundle.manifest["goldens"]["after_training"]
    assert section["steps"] == 2 and section["loss"]["training"] is False
    assert [r["optimizer"] for r in section["runs"]] == ["sgd", "adam"]
    sgd, adam = runs(training_bundle)["sgd"], runs(training_bundle)["adam"]
    assert sgd["class_name"] == "SGD" and sgd["config"]["learning_rate"] == pytest.approx(0.01) and sgd["config"]["momentum"] == 0
    assert adam["class_name"] == "Adam" and adam["config"]["beta_1"] == 0.9 and adam["config"]["epsilon"] == 1e-7
    trainable = [(w["layer"], w["index"]) for w in training_bundle.manifest["weights"] if w["trainable"]]
    for run in (sgd, adam):
        assert [(t["layer"], t["index"]) for t in run["tensors"]] == trainable
        assert len(run["losses"]) == 2 and run["losses"][0] == pytest.approx(training_bundle.manifest["goldens"]["loss"]["value"])


def test_one_sgd_step_is_w_minus_lr_times_the_gradient_golden(seed_exports, tmp_path):
    bundle = read_bundle(keras_bridge.export(build_seed_model("temporal"), tmp_path / "b", train_steps=1))
    for record in bundle.records("grad_weight"):
        grad = bundle.golden("grad_weight", layer=record["layer"], index=record["index"])
        w0 = initial(bundle, record["layer"], record["index"])
        np.testing.assert_allclose(trained(bundle, "sgd", record["layer"], record["index"]), w0 - np.float32(0.01) * grad, atol=1e-7)


def test_one_adam_step_is_keras_formula_with_epsilon_outside_the_bias_correction(tmp_path):
    bundle = read_bundle(keras_bridge.export(build_seed_model("temporal"), tmp_path / "b", train_steps=1))
    for record in bundle.records("grad_weight"):
        g = bundle.golden("grad_weight", layer=record["layer"], index=record["index"]).astype(np.float64)
        w0 = initial(bundle, record["layer"], record["index"]).astype(np.float64)
        m, v = 0.1 * g, 0.001 * g * g
        alpha = 0.001 * np.sqrt(1 - 0.999) / (1 - 0.9)
        np.testing.assert_allclose(trained(bundle, "adam", record["layer"], record["index"]), w0 - alpha * m / (np.sqrt(v) + 1e-7), atol=2e-8)


def test_finite_difference_models_train_with_finite_differences_and_say_so(tmp_path):
    bundle = read_bundle(keras_bridge.export(build_seed_model("risk"), tmp_path / "b", train_steps=1, optimizers=("sgd",)))
    assert bundle.manifest["goldens"]["after_training"]["gradients"] == "autodiff+finite_difference"
    for record in runs(bundle)["sgd"]["tensors"]:
        assert record["source"] == "finite_difference" and record["reference_error"] is not None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"train_steps": -1}, "train_steps must be a non-negative integer"),
        ({"train_steps": 2, "optimizers": ("rmsprop",)}, "optimizers must name some of sgd, adam"),
    ],
)
def test_bad_training_arguments_are_export_errors(kwargs, message, tmp_path):
    with pytest.raises(ExportError, match=message):
        keras_bridge.export(build_seed_model("temporal"), tmp_path / "b", **kwargs)


def test_cli_train_steps_and_no_training_mode(tmp_path, capsys, restore_sys_path):
    out_dir = tmp_path / "t"
    argv = ["export", "--out", str(out_dir), "--path", MODELS_DIR, "--factory", "training_model:training_model"]
    assert cli.main([*argv, "--train-steps", "1"]) == 0
    err = capsys.readouterr().err
    assert "training mode: 2 random draws recorded, 2 weights updated by the pass" in err
    assert "1 sgd steps" in err and "1 adam steps" in err
    assert read_bundle(out_dir).manifest["goldens"]["after_training"]["steps"] == 1
    assert cli.main([*argv, "--no-training-mode"]) == 0
    assert set(read_bundle(out_dir).manifest["goldens"]) >= {"tensors"} and "training" not in read_bundle(out_dir).manifest["goldens"]
