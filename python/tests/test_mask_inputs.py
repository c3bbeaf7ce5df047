"""Bool inputs (masks) and integer or bool outputs (an argmax head): seeded bool goldens with at
least one True per sample, the probability of True from input_ranges or --input-range, no gradient
for them; non-float outputs compared forward only, with zero cotangents, and gradients over the
float outputs alone."""
import numpy as np
import pytest

import keras
import keras_bridge
from bundle_io import read_bundle
from keras import ops
from keras_bridge import cli
from keras_bridge.golden_inputs import TRUE_PROBABILITY

TIMESTEPS = 6


def masked_model():
    """A float sequence and its bool padding mask, used by Multiply after a cast and by where."""
    frames = keras.Input((TIMESTEPS, 3), name="frames")
    mask = keras.Input((TIMESTEPS,), dtype="bool", name="mask")
    hidden = keras.layers.Dense(4, name="proj")(frames)
    kept = keras.layers.Multiply(name="kept")([hidden, ops.expand_dims(ops.cast(mask, "float32"), -1)])
    padded = ops.where(ops.expand_dims(mask, -1), hidden, -1.0)
    pooled = keras.layers.Concatenate()([keras.layers.GlobalAveragePooling1D()(kept), keras.layers.GlobalMaxPooling1D()(padded)])
    return keras.Model([frames, mask], keras.layers.Dense(2, name="head")(pooled))


def classifier_with_argmax():
    """Logits (float32), their argmax (int32) and whether the best logit is positive (bool)."""
    frames = keras.Input((TIMESTEPS, 3), name="frames")
    logits = keras.layers.Dense(3, name="logits")(keras.layers.Flatten()(frames))
    return keras.Model(frames, [logits, ops.argmax(logits, axis=-1), ops.greater(ops.max(logits, axis=-1), 0.0)])


@pytest.fixture(scope="module")
def masked(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = masked_model()
    return model, read_bundle(keras_bridge.export(model, tmp_path_factory.mktemp("masked") / "b", batch_size=8))


def test_a_bool_input_is_stored_as_bool(masked):
    _, bundle = masked
    assert bundle.manifest["inputs"][1] == {"name": "mask", "shape": [None, TIMESTEPS], "dtype": "bool"}
    record = bundle.record("input", name="mask")
    values = bundle.golden("input", name="mask")
    assert record["dtype"] == "bool" and record["byte_length"] == 8 * TIMESTEPS
    assert values.dtype == np.bool_ and values.shape == (8, TIMESTEPS)
    assert record["bool_values"] == {
        "true_probability": TRUE_PROBABILITY,
        "origin": "default",
        "true_count": int(values.sum()),
        "false_count": int((~values).sum()),
    }
    assert values.any(axis=1).all(), "every sample keeps at least one True"
    assert not values.all(), "some element is False, so that the mask matters"


def test_a_bool_input_has_no_gradient_but_the_float_one_does(masked):
    model, bundle = masked
    import tensorflow as tf

    assert [r["name"] for r in bundle.records("grad_input")] == ["frames"]
    frames, mask = bundle.golden("input", index=0), bundle.golden("input", index=1)
    x = tf.constant(frames)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(model([x, tf.constant(mask)]) * bundle.golden("cotangent", index=0))
    np.testing.assert_allclose(bundle.golden("grad_input", index=0), tape.gradient(loss, x).numpy(), rtol=1e-5, atol=1e-6)


def test_the_mask_changes_the_outputs(masked):
    """Keras computes something else with every element True: the goldens depend on the mask drawn."""
    model, bundle = masked
    frames, mask = bundle.golden("input", index=0), bundle.golden("input", index=1)
    assert not np.allclose(model([frames, np.ones_like(mask)]).numpy(), bundle.golden("output", index=0))


def test_same_seed_same_bool_goldens(tmp_path):
    keras.utils.set_random_seed(0)
    model = masked_model()
    a = read_bundle(keras_bridge.export(model, tmp_path / "a", seed=5))
    b = read_bundle(keras_bridge.export(model, tmp_path / "b", seed=5))
    c = read_bundle(keras_bridge.export(model, tmp_path / "c", seed=6))
    assert a.goldens_bin == b.goldens_bin
    assert not np.array_equal(a.golden("input", name="mask"), c.golden("input", name="mask"))


def test_the_probability_of_true_can_be_set(tmp_path):
    bundle = read_bundle(keras_bridge.export(masked_model(), tmp_path / "b", batch_size=64, input_ranges={"mask": 0.2}))
    record = bundle.record("input", name="mask")
    assert record["bool_values"]["true_probability"] == 0.2 and record["bool_values"]["origin"] == "input_ranges"
    values = bundle.golden("input", name="mask")
    assert 0.1 < values.mean() < 0.35  # 384 draws at 0.2, plus one True for each sample that drew none
    assert values.any(axis=1).all()


def test_a_flag_per_sample_still_gets_a_true_and_a_false(tmp_path):
    inputs = [keras.Input((3,), name="x"), keras.Input((), dtype="bool", name="flag")]
    gate = ops.expand_dims(ops.cast(inputs[1], "float32"), -1)
    model = keras.Model(inputs, keras.layers.Multiply()([keras.layers.Dense(2)(inputs[0]), gate]))
    values = read_bundle(keras_bridge.export(model, tmp_path / "b", batch_size=4, input_ranges={"flag": 0.99})).golden("input", name="flag")
    assert values.shape == (4,) and values.any() and not values.all()


@pytest.mark.parametrize(
    "ranges, message",
    [
        ({"mask": (0, 2)}, "input_ranges['mask'] = (0, 2) is an integer range, but input 'mask' is bool"),
        ({"mask": 1.5}, "a probability of True strictly between 0 and 1"),
        ({"frames": 0.5}, "input 'frames' is float32; ranges apply to integer and bool inputs"),
    ],
)
def test_bad_bool_settings_are_export_errors(ranges, message, tmp_path):
    with pytest.raises(keras_bridge.ExportError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        keras_bridge.export(masked_model(), tmp_path / "b", input_ranges=ranges)


def test_a_probability_for_an_integer_input_is_refused(tmp_path):
    ids = keras.Input((TIMESTEPS,), dtype="int32", name="ids")
    model = keras.Model(ids, keras.layers.Dense(1)(keras.layers.Flatten()(keras.layers.Embedding(5, 2)(ids))))
    with pytest.raises(keras_bridge.ExportError, match="is a probability of True, but input 'ids' is an integer input"):
        keras_bridge.export(model, tmp_path / "b", input_ranges={"ids": 0.5})


def test_cli_input_range_takes_a_probability_for_a_bool_input(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("keras_bridge.loading.load_factory", lambda spec, seed: masked_model())
    code = cli.main(["export", "--out", str(tmp_path / "b"), "--factory", "x:y", "--input-range", "mask=0.4"])
    assert code == 0, capsys.readouterr().err
    assert read_bundle(tmp_path / "b").record("input", name="mask")["bool_values"]["true_probability"] == 0.4


@pytest.mark.parametrize("text", ["mask=1.5", "mask=0", "mask=-0.5", "mask=0.5:1"])
def test_cli_rejects_probabilities_outside_zero_one(text, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["export", "--out", "x", "--factory", "a:b", "--input-range", text])
    assert exit_info.value.code == 2
    assert "NAME=P with 0 < P < 1 for a bool input" in capsys.readouterr().err


def test_an_int64_input_is_stored_as_int64(tmp_path):
    ids = keras.Input((TIMESTEPS,), dtype="int64", name="ids")
    model = keras.Model(ids, keras.layers.Dense(1)(keras.layers.Flatten()(keras.layers.Embedding(5, 2)(ids))))
    bundle = read_bundle(keras_bridge.export(model, tmp_path / "b"))
    assert bundle.golden("input", name="ids").dtype == np.int64
    assert bundle.records("grad_input") == []


@pytest.fixture(scope="module")
def argmax_head(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = classifier_with_argmax()
    return model, read_bundle(keras_bridge.export(model, tmp_path_factory.mktemp("argmax") / "b", batch_size=4, train_steps=1))


def test_integer_and_bool_outputs_are_goldens_with_zero_cotangents(argmax_head):
    model, bundle = argmax_head
    assert [o["dtype"] for o in bundle.manifest["outputs"]] == ["float32", "int32", "bool"]
    logits, label, positive = (bundle.golden("output", index=i) for i in range(3))
    assert label.dtype == np.int32 and np.array_equal(label, logits.argmax(axis=-1))
    assert positive.dtype == np.bool_ and np.array_equal(positive, logits.max(axis=-1) > 0)
    assert "zero" not in bundle.record("cotangent", index=0)
    for index, dtype in ((1, "int32"), (2, "bool")):
        record = bundle.record("cotangent", index=index)
        assert record["dtype"] == "float32" and record["zero"].endswith(f"is {dtype}: not in the loss")
        assert not bundle.golden("cotangent", index=index).any()


def test_gradients_are_over_the_float_output_alone(argmax_head):
    model, bundle = argmax_head
    frames = bundle.golden("input", index=0)
    cotangent = bundle.golden("cotangent", index=0)
    assert np.isclose(bundle.manifest["goldens"]["loss"]["value"], float(np.sum(bundle.golden("output", index=0).astype(np.float64) * cotangent)))
    kernel = model.get_layer("logits").kernel
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(frames)[0] * cotangent)
    np.testing.assert_allclose(bundle.golden("grad_weight", layer="logits", index=0), tape.gradient(loss, kernel).numpy(), rtol=1e-5, atol=1e-6)
    assert bundle.manifest["goldens"]["after_training"]["runs"][0]["tensors"], "the optimizer steps ran on the float loss"


def test_the_first_cotangent_is_drawn_as_without_the_other_outputs(argmax_head, tmp_path):
    """Non-float outputs take no draw: a model's float cotangents do not depend on its integer heads."""
    _, bundle = argmax_head
    keras.utils.set_random_seed(0)
    logits_only = keras.Model(*(lambda m: (m.inputs, m.outputs[0]))(classifier_with_argmax()))
    alone = read_bundle(keras_bridge.export(logits_only, tmp_path / "b", batch_size=4))
    np.testing.assert_array_equal(alone.golden("cotangent", index=0), bundle.golden("cotangent", index=0))


def test_a_model_with_only_an_integer_output_exports_with_a_zero_loss_and_zero_gradients(tmp_path):
    """No float output: the loss has no term. TensorFlow's tape fails on such a graph, so the
    exporter does not ask it: the loss is 0 and every gradient is zeros."""
    keras.utils.set_random_seed(0)
    frames = keras.Input((TIMESTEPS, 3), name="frames")
    model = keras.Model(frames, ops.argmax(keras.layers.Dense(3, name="logits")(keras.layers.Flatten()(frames)), axis=-1))
    bundle = read_bundle(keras_bridge.export(model, tmp_path / "b", batch_size=4))
    assert bundle.manifest["goldens"]["loss"]["value"] == 0.0
    assert bundle.record("cotangent", index=0)["zero"].endswith("is int32: not in the loss")
    assert not bundle.golden("grad_input", index=0).any()
    assert not bundle.golden("grad_weight", layer="logits", index=0).any()
