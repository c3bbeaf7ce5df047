"""grad_layer_output goldens: dL/dy for every layer output, checked against hand-written forward passes."""
import numpy as np
import pytest
import tensorflow as tf

import keras
import keras_bridge
from bridge_test_models import PyScale, Scale, two_branch_model
from bundle_io import read_bundle
from conftest import SEED_DIR, build_seed_model
from keras_bridge import cli, layer_gradients
from keras_bridge.errors import ExportError
from keras_bridge.layer_graph import build_layer_graph

# The goldens and the references below compute the same float32 ops in the same order; only the
# accumulation order of the tape may differ.
ATOL, RTOL = 1e-6, 1e-6


def _reference(forward, inputs, cotangents) -> dict:
    """dL/dy of every tensor `forward(x, keep)` passes to keep(name, tensor), by a tape over it."""
    x = [tf.constant(a) for a in inputs]
    kept = {}
    with tf.GradientTape(persistent=True) as tape:

        def keep(name, tensor):
            tape.watch(tensor)
            kept[name] = tensor
            return tensor

        outputs = forward(x, keep)
        loss = tf.add_n([tf.reduce_sum(tf.cast(o, tf.float64) * tf.constant(c, tf.float64)) for o, c in zip(outputs, cotangents)])
    return {
        name: tape.gradient(loss, t, unconnected_gradients=tf.UnconnectedGradients.ZERO).numpy() for name, t in kept.items()
    }


def _assert_goldens_match(bundle, reference: dict):
    names = {r["layer"] for r in bundle.records("grad_layer_output")}
    assert names == set(reference), (sorted(names), sorted(reference))
    for name, expected in reference.items():
        golden = bundle.golden("grad_layer_output", layer=name, node=0, index=0)
        np.testing.assert_allclose(golden, expected, rtol=RTOL, atol=ATOL, err_msg=name)


def test_sequential_goldens_equal_a_tape_over_a_layer_by_layer_forward_pass(seed_exports):
    export = seed_exports["swish"]
    model, bundle = export.model, export.bundle

    def forward(x, keep):
        h = x[0]
        for layer in model.layers:
            h = keep(layer.name, layer(h))
        return [h]

    _assert_goldens_match(bundle, _reference(forward, bundle.goldens("input"), bundle.goldens("cotangent")))
    for record in bundle.records("grad_layer_output"):
        assert record["source"] == "autodiff" and record["reference_error"] is None and record["node"] == 0
    assert bundle.manifest["goldens"]["gradients"]["layer_output_gradients"] == {
        "policy": "auto",
        "included": True,
        "bytes": sum(r["byte_length"] for r in bundle.records("grad_layer_output")),
        "auto_limit_bytes": layer_gradients.AUTO_LIMIT_BYTES,
    }


def tangled_model():
    """A shared layer whose node 0 runs after its node 1, a Dropout (its input, unchanged, at
    inference) on a tensor that also feeds another layer, and a model output that feeds a layer."""
    x = keras.Input((5,), name="x")
    shared = keras.layers.Dense(4, activation="tanh", name="shared")
    first = shared(keras.layers.Dense(5, activation="relu", name="pre")(x))  # node 0
    second = shared(x)  # node 1: deeper from the outputs, so Keras runs it first
    deep = keras.layers.Dense(4, name="deep_1")(keras.layers.Dense(4, activation="sigmoid", name="deep_0")(second))
    dropped = keras.layers.Dropout(0.5, name="drop")(first)
    side = keras.layers.Dense(3, name="side")(first)
    out = keras.layers.Dense(2, name="head")(keras.layers.Concatenate(name="merge")([dropped, deep]))
    tail = keras.layers.Dense(1, name="tail")(out)
    # With `side` first among the outputs, Keras runs shared's node 1 before its node 0.
    return keras.Model(x, [side, out, tail], name="tangled")


def test_functional_goldens_sum_every_use_and_follow_node_0_of_a_shared_layer(tmp_path):
    keras.utils.set_random_seed(0)
    model = tangled_model()
    assert layer_gradients._node_zero_call(model, model.get_layer("shared")) == 1  # the case is real
    bundle = read_bundle(keras_bridge.export(model, tmp_path / "tangled", seed=1))
    layer = model.get_layer

    def forward(x, keep):
        first = keep("shared", layer("shared")(keep("pre", layer("pre")(x[0]))))
        deep = keep("deep_1", layer("deep_1")(keep("deep_0", layer("deep_0")(layer("shared")(x[0])))))
        dropped = keep("drop", tf.identity(first))  # Dropout at inference, as a tensor of its own
        side = keep("side", layer("side")(first))
        out = keep("head", layer("head")(keep("merge", layer("merge")([dropped, deep]))))
        return [side, out, keep("tail", layer("tail")(out))]

    reference = _reference(forward, bundle.goldens("input"), bundle.goldens("cotangent"))
    _assert_goldens_match(bundle, reference)
    # What the cases change: `first` sums drop's and side's gradients; drop's is its own.
    assert not np.allclose(reference["shared"], reference["drop"])
    for l in model.layers:
        assert "call" not in l.__dict__, l.name  # every wrapped call is restored


def test_an_output_that_nothing_watched_upstream_still_gets_its_gradient(tmp_path):
    """After an integer input and a layer without weights, the tape would not record the tensor."""
    tokens = keras.Input((3,), dtype="int32", name="tokens")
    counts = keras.layers.CategoryEncoding(num_tokens=10, output_mode="count", name="counts")(tokens)
    model = keras.Model(tokens, keras.layers.Dense(2, name="head")(counts))
    bundle = read_bundle(keras_bridge.export(model, tmp_path / "counts"))

    def forward(x, keep):
        return [keep("head", model.get_layer("head")(keep("counts", model.get_layer("counts")(x[0]))))]

    reference = _reference(forward, bundle.goldens("input"), bundle.goldens("cotangent"))
    assert np.any(reference["counts"] != 0)
    _assert_goldens_match(bundle, reference)


def test_gradients_through_a_finite_difference_layer_are_marked_and_match_its_differentiable_twin(tmp_path):
    model = two_branch_model(PyScale)
    bundle = read_bundle(keras_bridge.export(model, tmp_path / "two", seed=3, batch_size=4))
    twin = two_branch_model(Scale)
    twin.set_weights(model.get_weights())

    def forward(x, keep):
        scaled = keep("scale", twin.get_layer("scale")(keep("dense_a", twin.get_layer("dense_a")(x[0]))))
        merged = keep("add", twin.get_layer("add")([scaled, x[1]]))
        return [keep("out_1", twin.get_layer("out_1")(merged)), keep("out_2", twin.get_layer("out_2")(x[1]))]

    reference = _reference(forward, bundle.goldens("input"), bundle.goldens("cotangent"))
    sources = {r["layer"]: (r["source"], r["reference_error"]) for r in bundle.records("grad_layer_output")}
    # Only dense_a's gradient flows through the finite-difference layer (scale's own output does not).
    assert sources["dense_a"][0] == "finite_difference" and 0 <= sources["dense_a"][1] < 1e-5
    assert {name: s for name, s in sources.items() if name != "dense_a"} == {
        name: ("autodiff", None) for name in ("scale", "add", "out_1", "out_2")
    }
    for name, expected in reference.items():
        golden = bundle.golden("grad_layer_output", layer=name, node=0, index=0)
        np.testing.assert_allclose(golden, expected, rtol=0, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("name", ["swish", "risk"])
def test_same_seed_same_bytes_and_the_other_goldens_do_not_change(name, tmp_path):
    model = build_seed_model(name, 7)
    with_layers = read_bundle(keras_bridge.export(model, tmp_path / "a", seed=7, layer_gradients="always"))
    again = read_bundle(keras_bridge.export(build_seed_model(name, 7), tmp_path / "b", seed=7, layer_gradients="always"))
    without = read_bundle(keras_bridge.export(model, tmp_path / "c", seed=7, layer_gradients="never"))
    assert with_layers.goldens_bin == again.goldens_bin
    assert with_layers.records("grad_layer_output") and not without.records("grad_layer_output")
    for record in without.tensors:
        same = [r for r in with_layers.tensors if {**r, "offset": 0} == {**record, "offset": 0}]
        assert len(same) == 1, record
        golden = with_layers.goldens_bin[same[0]["offset"] : same[0]["offset"] + same[0]["byte_length"]]
        assert golden == without.goldens_bin[record["offset"] : record["offset"] + record["byte_length"]], record


def test_policy_never_always_and_the_auto_size_limit(tmp_path, monkeypatch):
    model = build_seed_model("swish")
    never = read_bundle(keras_bridge.export(model, tmp_path / "never", layer_gradients=False))
    assert never.records("grad_layer_output") == []
    assert never.manifest["goldens"]["gradients"]["layer_output_gradients"]["included"] is False

    monkeypatch.setattr(layer_gradients, "AUTO_LIMIT_BYTES", 1000)
    monkeypatch.setattr(layer_gradients, "AUTO_LIMIT_WEIGHTS_FRACTION", 0.0)
    auto = read_bundle(keras_bridge.export(model, tmp_path / "auto"))
    assert auto.records("grad_layer_output") == []
    assert auto.manifest["goldens"]["gradients"]["layer_output_gradients"] == {
        "policy": "auto",
        "included": False,
        "bytes": 1032,  # (2x64 + 2x64 + 2x1) float32
        "auto_limit_bytes": 1000,
    }
    always = read_bundle(keras_bridge.export(model, tmp_path / "always", layer_gradients="always"))
    assert len(always.records("grad_layer_output")) == 3

    monkeypatch.setattr(layer_gradients, "AUTO_LIMIT_WEIGHTS_FRACTION", 1.0)  # 3076 bytes of weights
    assert len(read_bundle(keras_bridge.export(model, tmp_path / "relative")).records("grad_layer_output")) == 3


def test_a_policy_that_is_not_one_is_refused(tmp_path):
    with pytest.raises(ExportError, match="layer_gradients must be one of auto, always, never"):
        keras_bridge.export(build_seed_model("swish"), tmp_path / "x", layer_gradients="sometimes")


def _export_cli(capsys, *argv):
    try:
        code = cli.main(["export", "--path", str(SEED_DIR), "--factory", "seed_models:temporal_model", *argv])
    except SystemExit as exc:  # argparse
        code = exc.code
    return code, capsys.readouterr().err


def test_cli_flag(tmp_path, capsys, restore_sys_path):
    code, err = _export_cli(capsys, "--out", str(tmp_path / "t"), "--layer-gradients", "never")
    assert code == 0, err
    assert read_bundle(tmp_path / "t").records("grad_layer_output") == []
    code, err = _export_cli(capsys, "--out", str(tmp_path / "t"), "--layer-gradients", "no")
    assert code == 2 and "argument --layer-gradients: invalid choice: 'no'" in err


def test_input_layers_have_no_grad_layer_output(tmp_path):
    """A model input's gradient is its grad_input golden."""
    model = two_branch_model(Scale)
    bundle = read_bundle(keras_bridge.export(model, tmp_path / "two"))
    graph = build_layer_graph(model)
    assert {r["layer"] for r in bundle.records("grad_layer_output")}.isdisjoint(l.name for l in graph.input_layers)
