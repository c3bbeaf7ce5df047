"""Golden inputs beyond standard normal floats: integer inputs (ranges from the model, overrides,
zeros for mask_zero), Masking's masked timesteps, and recurrent layers taped rather than
finite-differenced."""
import numpy as np
import pytest

import keras
import keras_bridge
from bundle_io import read_bundle
from keras_bridge import cli
from keras_bridge.differentiability import analyze_layer
from keras_bridge.golden_inputs import DEFAULT_INTEGER_HIGH

TIMESTEPS = 6


def tokens_model(vocabulary=7, mask_zero=True, name="tokens"):
    inputs = keras.Input((TIMESTEPS,), dtype="int32", name=name)
    x = keras.layers.Embedding(vocabulary, 3, mask_zero=mask_zero, name="embedding")(inputs)
    return keras.Model(inputs, keras.layers.LSTM(2)(x))


def two_vocabularies_model():
    """One int input feeding two embeddings (the smaller vocabulary bounds it), one float input."""
    tokens = keras.Input((TIMESTEPS,), dtype="int32", name="tokens")
    features = keras.Input((TIMESTEPS, 3), name="features")
    small = keras.layers.Embedding(4, 3, name="small")(tokens)
    large = keras.layers.Embedding(9, 3, name="large")(tokens)
    merged = keras.layers.Add()([small, large, features])
    return keras.Model([tokens, features], keras.layers.Dense(2)(merged))


def test_integer_input_range_comes_from_the_embedding(tmp_path):
    bundle = read_bundle(keras_bridge.export(tokens_model(vocabulary=7), tmp_path / "b", batch_size=4))
    record = bundle.record("input", index=0)
    assert record["dtype"] == "int32"
    assert record["integer_range"] == {"low": 0, "high": 7, "origin": "input_dim of Embedding 'embedding'"}
    assert bundle.manifest["inputs"][0]["dtype"] == "int32"
    values = bundle.golden("input", index=0)
    assert values.dtype == np.int32 and values.min() >= 0 and values.max() < 7
    assert (values == 0).any(), "mask_zero needs some zeros"
    assert (values != 0).any()


def test_the_smallest_downstream_vocabulary_bounds_a_shared_input(tmp_path):
    bundle = read_bundle(keras_bridge.export(two_vocabularies_model(), tmp_path / "b", batch_size=8))
    assert bundle.record("input", name="tokens")["integer_range"]["high"] == 4
    assert bundle.golden("input", name="tokens").max() < 4
    assert "integer_range" not in bundle.record("input", name="features")


def test_integer_inputs_have_no_input_gradient_but_weights_do(tmp_path):
    bundle = read_bundle(keras_bridge.export(two_vocabularies_model(), tmp_path / "b"))
    assert [r["name"] for r in bundle.records("grad_input")] == ["features"]
    assert bundle.record("grad_input", name="features")["index"] == 1
    embeddings = bundle.golden("grad_weight", layer="small", index=0)
    assert embeddings.shape == (4, 3) and np.abs(embeddings).sum() > 0


def test_input_gradient_of_the_float_input_matches_keras(tmp_path):
    """The float input's gradient is still the tape's, with the int input left out of the sources."""
    import tensorflow as tf

    model = two_vocabularies_model()
    bundle = read_bundle(keras_bridge.export(model, tmp_path / "b"))
    tokens, features = bundle.golden("input", index=0), bundle.golden("input", index=1)
    cotangent = bundle.golden("cotangent", index=0)
    x = tf.constant(features)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(model([tf.constant(tokens), x]) * cotangent)
    np.testing.assert_allclose(bundle.golden("grad_input", index=1), tape.gradient(loss, x).numpy(), rtol=1e-5, atol=1e-6)


def test_input_ranges_override_the_model(tmp_path):
    bundle = read_bundle(keras_bridge.export(tokens_model(), tmp_path / "b", input_ranges={"tokens": (2, 5)}, batch_size=8))
    record = bundle.record("input", index=0)
    assert record["integer_range"] == {"low": 2, "high": 5, "origin": "input_ranges"}
    values = bundle.golden("input", index=0)
    assert values.min() >= 2 and values.max() < 5  # 0 is out of range: no zeros are forced


def test_default_range_without_an_embedding(tmp_path):
    inputs = keras.Input((4,), dtype="int32", name="ids")
    model = keras.Model(inputs, keras.layers.CategoryEncoding(num_tokens=DEFAULT_INTEGER_HIGH, output_mode="count")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2)(model.outputs[0]))
    bundle = read_bundle(keras_bridge.export(model, tmp_path / "b"))
    assert bundle.record("input", index=0)["integer_range"]["high"] == DEFAULT_INTEGER_HIGH
    assert bundle.records("grad_input") == []


def test_same_seed_same_integer_goldens(tmp_path):
    keras.utils.set_random_seed(0)
    model = tokens_model()
    a = read_bundle(keras_bridge.export(model, tmp_path / "a", seed=3))
    b = read_bundle(keras_bridge.export(model, tmp_path / "b", seed=3))
    assert a.goldens_bin == b.goldens_bin


@pytest.mark.parametrize(
    "ranges, message",
    [
        ({"nope": 3}, "input_ranges names ['nope'], which are not model inputs"),
        ({"tokens": (5, 5)}, "expected an integer high or a (low, high) pair with low < high"),
        ({"tokens": 2.5}, "expected an integer high"),
        ([("tokens", 3)], "input_ranges must be a dict"),
    ],
)
def test_bad_input_ranges_are_export_errors(ranges, message, tmp_path):
    with pytest.raises(keras_bridge.ExportError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        keras_bridge.export(tokens_model(), tmp_path / "b", input_ranges=ranges)


def test_a_float_input_feeding_an_embedding_is_refused(tmp_path):
    inputs = keras.Input((TIMESTEPS,), name="floats")
    model = keras.Model(inputs, keras.layers.Embedding(5, 2, name="embedding")(inputs))
    with pytest.raises(keras_bridge.ExportError, match="'floats' is float32 but feeds Embedding 'embedding'.*dtype='int32'"):
        keras_bridge.export(model, tmp_path / "b")


def test_a_range_for_a_float_input_is_refused(tmp_path):
    with pytest.raises(keras_bridge.ExportError, match="input 'features' is float32; ranges apply to integer and bool inputs"):
        keras_bridge.export(two_vocabularies_model(), tmp_path / "b", input_ranges={"features": 3})


def test_masking_input_gets_masked_timesteps(tmp_path):
    inputs = keras.Input((TIMESTEPS, 3), name="frames")
    masked = keras.layers.Masking(mask_value=0.5, name="masking")(inputs)
    model = keras.Model(inputs, keras.layers.LSTM(2)(masked))
    bundle = read_bundle(keras_bridge.export(model, tmp_path / "b", batch_size=3))
    values = bundle.golden("input", index=0)
    whole_steps = np.all(values == 0.5, axis=-1)
    record = bundle.record("input", index=0)
    assert record["masked_timesteps"] == {"layer": "masking", "mask_value": 0.5, "count": int(whole_steps.sum())}
    assert 0 < whole_steps.sum() < whole_steps.size
    assert np.all((values == 0.5) == whole_steps[..., None])  # only whole timesteps take the mask value


def test_cli_input_range_flag(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("keras_bridge.loading.load_factory", lambda spec, seed: tokens_model())
    code = cli.main(["export", "--out", str(tmp_path / "b"), "--factory", "x:y", "--input-range", "tokens=1:3"])
    assert code == 0, capsys.readouterr().err
    assert read_bundle(tmp_path / "b").record("input", index=0)["integer_range"]["low"] == 1


@pytest.mark.parametrize("text", ["tokens", "tokens=", "tokens=x", "tokens=4:2", "=3"])
def test_cli_rejects_malformed_input_ranges(text, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["export", "--out", "x", "--factory", "a:b", "--input-range", text])
    assert exit_info.value.code == 2
    assert "argument --input-range: expected NAME=HIGH or NAME=LOW:HIGH" in capsys.readouterr().err


@pytest.mark.parametrize(
    "make",
    [
        lambda: keras.layers.LSTM(2, return_sequences=True),
        lambda: keras.layers.GRU(2, dropout=0.2, recurrent_dropout=0.2),
        lambda: keras.layers.Bidirectional(keras.layers.LSTM(2)),
    ],
    ids=["lstm", "gru-with-dropout", "bidirectional"],
)
def test_recurrent_layers_are_taped_not_finite_differenced(make):
    """Their while loop allocates a TensorList (TensorListReserve: no gradient, integer inputs) and
    their dropout draws seeds (integer ops, AssignVariableOp: no outputs); none is on a gradient path."""
    layer = make()
    layer(keras.Input((TIMESTEPS, 3)))
    result = analyze_layer(layer)
    assert result.python_differentiable, result.non_differentiable_ops
