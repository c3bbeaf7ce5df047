"""Route 3 (graph fallback, graph_fallback.py): each custom layer's call() as a flat TensorFlow graph
in tfjs GraphModel JSON, its weights as Placeholders, its constants in graphs.bin."""
import sys

import numpy as np
import pytest

from conftest import REPO_ROOT
from keras_bridge._tf import keras, tf
from keras_bridge.bundle_writer import TensorPack
from keras_bridge.graph_fallback import graph_layer

sys.path.insert(0, str(REPO_ROOT / "fixtures" / "models"))
import graph_fallback_layers  # noqa: E402


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return graph_fallback_layers.graph_fallback_model()


def _records(model):
    pack = TensorPack()
    customs = [layer for layer in model.layers if type(layer).__module__ == "graph_fallback_layers"]
    return {layer.name: (layer, graph_layer(layer, pack)) for layer in customs}, pack.getvalue()


def _run_recorded(record, graph, data: bytes, inputs, weights):
    """Runs the recorded GraphDef in TensorFlow: the Const values put back from graphs.bin by name."""
    from google.protobuf import json_format

    graph_def = json_format.ParseDict(graph["topology"], tf.compat.v1.GraphDef())
    constants = {c["name"]: c for c in graph["constants"]}
    for node in graph_def.node:
        if node.op == "Const":
            c = constants[node.name]
            value = np.frombuffer(data[c["offset"] : c["offset"] + c["byte_length"]], dtype=c["dtype"]).reshape(c["shape"])
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value.astype(tf.as_dtype(node.attr["dtype"].type).as_numpy_dtype)))
    names = [i["name"] for i in record["inputs"]] + [w["input"] for w in record["weights"]]
    imported = tf.compat.v1.wrap_function(lambda: tf.graph_util.import_graph_def(graph_def, name=""), [])
    run = imported.prune([imported.graph.get_tensor_by_name(f"{n}:0") for n in names], [imported.graph.get_tensor_by_name(o["name"]) for o in record["outputs"]])
    return run(*[tf.constant(v) for v in [*inputs, *weights]])[0].numpy()


def test_every_layer_traces_flat_with_its_weights_as_placeholders(model):
    records, _ = _records(model)
    for name, (layer, record) in records.items():
        assert record["status"] == "traced", (name, record.get("reason"))
        assert "library" not in record["graphs"]["inference"]["topology"], name  # no nested functions left
        assert [w["path"] for w in record["weights"]] == [w.path for w in layer.trainable_variables + layer.non_trainable_variables]
        ops = {n["op"] for n in record["graphs"]["inference"]["topology"]["node"]}
        assert "VarHandleOp" not in ops and "ReadVariableOp" not in ops, name
        assert all(not n["attr"]["value"]["tensor"].get("tensorContent") for n in record["graphs"]["inference"]["topology"]["node"] if n["op"] == "Const")
    gate_layer, gate = records["bilinear_gate"]
    # The Dense's name comes from Keras's per-process counter (dense, dense_20, ...).
    dense = gate_layer.dense.name
    assert [w["name"] for w in gate["weights"]] == ["kernel", "bias", f"{dense}/kernel", f"{dense}/bias"]
    # Only the layer that branches on `training` has a second graph.
    assert sorted(records["training_shift"][1]["graphs"]) == ["inference", "training"]
    assert sorted(records["cumulative_mix"][1]["graphs"]) == ["inference"]


@pytest.mark.parametrize("training", [False, True])
def test_the_recorded_graphs_compute_the_layers_outputs(model, training):
    records, data = _records(model)
    rng = np.random.default_rng(0)
    for name, (layer, record) in records.items():
        shape = [3, *record["inputs"][0]["shape"][1:]]
        x = rng.standard_normal(shape).astype("float32")
        graph = record["graphs"]["training" if training and "training" in record["graphs"] else "inference"]
        weights = [w.numpy() for w in layer.trainable_variables + layer.non_trainable_variables]
        got = _run_recorded(record, graph, data, [x], weights)
        expected = keras.ops.convert_to_numpy(layer(x, training=training) if "training" in record["graphs"] else layer(x))
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6, err_msg=name)
        if weights:  # the weights are read from their Placeholders, not frozen: another value, another output
            perturbed = [weights[0] + 1.0, *weights[1:]]
            assert not np.allclose(_run_recorded(record, graph, data, [x], perturbed), expected, atol=1e-6), name


def test_python_only_and_missing_ops_are_recorded_with_the_users_line():
    keras.utils.set_random_seed(0)
    for factory, op, code in [
        (graph_fallback_layers.python_only_model, "EagerPyFunc", "tf.py_function("),
        (graph_fallback_layers.missing_op_model, "Lgamma", "tf.math.lgamma("),
    ]:
        model = factory()
        layer = model.layers[1]
        record = graph_layer(layer, TensorPack())
        assert record["status"] == "traced"
        at = {o["op"]: o.get("at", "") for o in record["graphs"]["inference"]["ops"]}
        assert at[op].startswith("graph_fallback_layers.py:") and code in at[op], at


def test_a_tensor_keyword_argument_is_a_named_input_of_the_graph():
    keras.utils.set_random_seed(0)
    model = graph_fallback_layers.keyword_argument_model()
    layer = model.get_layer("masked_cumsum")
    pack = TensorPack()
    record = graph_layer(layer, pack)
    assert record["status"] == "traced", record.get("reason")
    assert [(i.get("keyword"), i["shape"], i["dtype"]) for i in record["inputs"]] == [(None, [None, 5, 3], "float32"), ("padding_mask", [None, 5], "int32")]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype="int32")
    got = _run_recorded(record, record["graphs"]["inference"], pack.getvalue(), [x, mask], [])
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(layer(x, padding_mask=mask)), rtol=1e-6, atol=1e-6)
    # The mask is read from its own input, not frozen: another mask, another output.
    assert not np.allclose(_run_recorded(record, record["graphs"]["inference"], pack.getvalue(), [x, np.ones_like(mask)], []), got)
