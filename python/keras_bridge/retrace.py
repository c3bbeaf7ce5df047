"""Route 2 of issue 11: a custom layer's call() re-traced on symbolic inputs into a functional graph.

Keras 3 records keras.ops applied to KerasTensors as operation nodes and sub-layers called on them
as layer nodes, so `keras.Model(inputs, layer.call(inputs))` turns a call() written with keras.ops
(and sub-layers) into a functional config the converter already reads. What this module adds:

- tf.* functions with an exact keras.ops equivalent (TF_EQUIVALENTS) are re-dispatched to it during
  the trace (TensorFlow's fallback dispatch: a tf op given a KerasTensor raises, then asks global
  dispatchers), so that the seed's `inputs * tf.sigmoid(inputs)` traces; any other tf.* call fails
  as it does in Keras, and the reason names it.
- The layer's own weights, which Keras would freeze into `__tensor__` constants, are written as
  `{"class_name": "__keras_bridge_weight__", "config": {"path": ...}}` references, so that they
  stay weights (trained, differentiated, loaded from the bundle by their Keras path).
- What cannot be traced is refused with the reason (docs/custom-layer-routes.md): the exception's
  first line and the line of the user's code that raised it, a call() that builds a different graph
  with training=True than with training=False, a Keras mask or tensor keyword argument, a constant
  tensor, a variable the layer does not own.

Nothing here changes the model: the trace builds a throwaway functional model on fresh inputs.
"""
from __future__ import annotations

import collections

import inspect
import json
import traceback

from ._tf import keras, tf
from .layer_graph import node_zero

WEIGHT_REF = "__keras_bridge_weight__"


class RetraceRefused(Exception):
    """The layer's call() does not trace into a graph keras-bridge can record; str() says why."""


# --- tf.* functions re-dispatched to keras.ops ------------------------------------------------
class _TfEquivalent:
    """`tf_name(...)` computes exactly `keras_fn(...)` when called with only the parameters in
    `params` (tf name -> keras keyword, or an int: a positional slot) set; others must keep their
    default (`name` is always allowed)."""

    def __init__(self, tf_name: str, keras_fn, params: dict):
        self.tf_name = tf_name
        self.keras_fn = keras_fn
        self.params = params

    def call(self, tf_fn, args, kwargs):
        bound = inspect.signature(tf_fn).bind(*args, **kwargs)
        positional, keywords = [], {}
        for param, value in bound.arguments.items():
            target = self.params.get(param)
            if target is None:
                if param != "name":
                    raise RetraceRefused(f"tf.{self.tf_name} with {param}= has no keras.ops equivalent in keras-bridge's table")
                continue
            if isinstance(target, int):
                positional.append((target, value))
            else:
                keywords[target] = value
        return self.keras_fn(*[v for _, v in sorted(positional, key=lambda p: p[0])], **keywords)


def _equivalents() -> dict:
    ops = keras.ops
    table = [
        ("sigmoid", tf.sigmoid, ops.sigmoid, {"x": 0}),
        ("tanh", tf.tanh, ops.tanh, {"x": 0}),
        ("exp", tf.exp, ops.exp, {"x": 0}),
        ("math.log", tf.math.log, ops.log, {"x": 0}),
        ("sqrt", tf.sqrt, ops.sqrt, {"x": 0}),
        ("square", tf.square, ops.square, {"x": 0}),
        ("abs", tf.abs, ops.abs, {"x": 0}),
        ("nn.relu", tf.nn.relu, ops.relu, {"features": 0}),
        ("nn.softmax", tf.nn.softmax, ops.softmax, {"logits": 0, "axis": "axis"}),
        ("matmul", tf.matmul, ops.matmul, {"a": 0, "b": 1}),
        ("add", tf.add, ops.add, {"x": 0, "y": 1}),
        ("subtract", tf.subtract, ops.subtract, {"x": 0, "y": 1}),
        ("multiply", tf.multiply, ops.multiply, {"x": 0, "y": 1}),
        ("maximum", tf.maximum, ops.maximum, {"x": 0, "y": 1}),
        ("minimum", tf.minimum, ops.minimum, {"x": 0, "y": 1}),
        ("reduce_mean", tf.reduce_mean, ops.mean, {"input_tensor": 0, "axis": "axis", "keepdims": "keepdims"}),
        ("reduce_sum", tf.reduce_sum, ops.sum, {"input_tensor": 0, "axis": "axis", "keepdims": "keepdims"}),
        ("reduce_max", tf.reduce_max, ops.max, {"input_tensor": 0, "axis": "axis", "keepdims": "keepdims"}),
        ("reduce_min", tf.reduce_min, ops.min, {"input_tensor": 0, "axis": "axis", "keepdims": "keepdims"}),
        ("reshape", tf.reshape, ops.reshape, {"tensor": 0, "shape": 1}),
        ("transpose", tf.transpose, ops.transpose, {"a": 0, "perm": "axes"}),
        ("expand_dims", tf.expand_dims, ops.expand_dims, {"input": 0, "axis": "axis"}),
        ("concat", tf.concat, ops.concatenate, {"values": 0, "axis": "axis"}),
        ("clip_by_value", tf.clip_by_value, ops.clip, {"t": 0, "clip_value_min": 1, "clip_value_max": 2}),
    ]
    return {_undecorated(fn): _TfEquivalent(name, keras_fn, params) for name, fn, keras_fn, params in table}


def _undecorated(fn):
    """The function under TensorFlow's decorators: the dispatcher is handed an inner wrapper of
    what `tf.sigmoid` names, and both unwrap to the same target."""
    from tensorflow.python.util import tf_decorator

    return tf_decorator.unwrap(fn)[1]


class _KerasOpsDispatcher(tf.__internal__.dispatch.GlobalOpDispatcher):
    """Hands a tf op that refused a KerasTensor to its keras.ops equivalent, if it has one."""

    def __init__(self):
        self.table = _equivalents()
        self.refused: list = []

    def handle(self, op, args, kwargs):
        equivalent = self.table.get(_undecorated(op))
        if equivalent is None or not any(isinstance(t, keras.KerasTensor) for t in keras.tree.flatten((args, kwargs))):
            name = f"tf.{getattr(op, '__name__', repr(op))}"
            if equivalent is None and name not in self.refused:
                self.refused.append(name)
            return self.NOT_SUPPORTED
        try:
            return equivalent.call(op, args, kwargs)
        except RetraceRefused as exc:
            self.refused.append(str(exc))
            return self.NOT_SUPPORTED


class _dispatching:
    """Registers the dispatcher for the trace only (TensorFlow keeps a global list of them)."""

    def __enter__(self):
        from tensorflow.python.util import dispatch

        self.dispatcher = _KerasOpsDispatcher()
        self.dispatcher.register()
        self._list = dispatch._GLOBAL_DISPATCHERS
        return self.dispatcher

    def __exit__(self, *exc):
        self._list.remove(self.dispatcher)
        return False


# --- the trace ----------------------------------------------------------------------------------
def _user_frame(exc: BaseException, cls) -> str:
    """`file:line: code` of the deepest frame of the user's class's source file, or ''."""
    try:
        file = inspect.getsourcefile(cls)
    except TypeError:
        return ""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == file]
    if not frames:
        return ""
    frame = frames[-1]
    return f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}: {(frame.line or '').strip()}"


def _first_line(exc: BaseException) -> str:
    """The exception's first sentence: Keras's messages run on for a paragraph."""
    text = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {text.split('. ')[0].rstrip('.')}"


def _call_parameters(layer) -> set:
    return set(inspect.signature(layer.call).parameters)


def _fresh_inputs(node):
    """New keras.Inputs shaped like the node's input tensors, and the call's args/kwargs on them."""
    arguments = node.arguments
    fresh = {}
    inputs = []
    for t in arguments.keras_tensors:
        if id(t) not in fresh:
            fresh[id(t)] = keras.Input(batch_shape=t.shape, dtype=t.dtype)
            inputs.append(fresh[id(t)])
    replace = lambda v: fresh[id(v)] if isinstance(v, keras.KerasTensor) else v  # noqa: E731
    args = keras.tree.map_structure(replace, list(arguments.args))
    return inputs, args, dict(arguments.kwargs)


def _check_call_arguments(layer, node, kwargs: dict) -> None:
    for key, value in kwargs.items():
        if any(isinstance(t, keras.KerasTensor) for t in keras.tree.flatten(value)):
            raise RetraceRefused(f"called with the tensor keyword argument {key}=, which a traced graph cannot take")
    if any(getattr(t, "_keras_mask", None) is not None for t in node.arguments.keras_tensors):
        raise RetraceRefused("receives a Keras mask from the layer before it; a traced graph does not carry masks")


class _fresh_names:
    """Keras numbers auto-named objects (inputs, operation nodes) from one per-process counter: the
    trace gets counters of its own, so that its config is the same in every process (a bundle
    exported from a .keras file matches one exported live)."""

    def __enter__(self):
        from keras.src.backend.common import global_state

        self.saved = global_state.get_global_attribute("object_name_uids")
        global_state.set_global_attribute("object_name_uids", collections.defaultdict(int))

    def __exit__(self, *exc):
        from keras.src.backend.common import global_state

        global_state.set_global_attribute("object_name_uids", self.saved)
        return False


def _trace(layer, node, training):
    with _fresh_names():
        return _trace_named(layer, node, training)


def _trace_named(layer, node, training):
    inputs, args, kwargs = _fresh_inputs(node)
    kwargs = {k: v for k, v in kwargs.items() if k not in ("training", "mask")}
    if training is not None:
        kwargs["training"] = training
    with _dispatching() as dispatcher:
        try:
            outputs = layer.call(*args, **kwargs)
            traced = keras.Model(inputs, outputs, name=f"{layer.name}_retrace")
        except RetraceRefused:
            raise
        except Exception as exc:  # the user's code: any exception means "does not trace"
            where = _user_frame(exc, type(layer))
            tf_calls = f"; tf.* functions with no keras.ops equivalent: {', '.join(dispatcher.refused)}" if dispatcher.refused else ""
            raise RetraceRefused(f"{_first_line(exc)}{f' (at {where})' if where else ''}{tf_calls}") from exc
    return traced


def _weight_references(traced, config: dict, owned: dict) -> list:
    """Replaces the variables among the operation nodes' arguments by WEIGHT_REF records (in
    `config`, in place); returns the paths used, first use first."""
    used: list = []
    by_name = {op.name: op for op in traced.operations}

    def walk(raw, serialized, where):
        if isinstance(raw, keras.Variable):
            if id(raw) not in owned:
                raise RetraceRefused(f"{where} uses the variable {raw.path!r}, which is not one of this layer's own weights (a sub-layer's or another layer's)")
            if raw.path not in used:
                used.append(raw.path)
            return {"class_name": WEIGHT_REF, "config": {"path": raw.path}}
        if isinstance(raw, (list, tuple)) and isinstance(serialized, (list, tuple)):
            return [walk(r, s, where) for r, s in zip(raw, serialized)]
        if isinstance(raw, dict) and isinstance(serialized, dict):
            return {k: walk(raw[k], serialized[k], where) for k in raw}
        if isinstance(serialized, dict) and serialized.get("class_name") in ("__tensor__", "__numpy__"):
            raise RetraceRefused(
                f"{where} takes a constant tensor of shape {list(getattr(raw, 'shape', []))} (a NumPy array or tf tensor "
                "made in Python); keras-bridge's operation nodes take tensors, weights, Python numbers and slices"
            )
        return serialized

    for entry in config["layers"]:
        op = by_name.get(entry["name"])
        if op is None or not entry.get("inbound_nodes"):
            continue
        for node, serialized in zip(op._inbound_nodes, entry["inbound_nodes"]):
            where = f"operation {entry['class_name']} ({entry['name']!r})"
            serialized["args"] = walk(list(node.arguments.args), serialized["args"], where)
            serialized["kwargs"] = walk(dict(node.arguments.kwargs), serialized.get("kwargs", {}), where)
    return used


def _canonical(config: dict) -> str:
    """The graph without its auto-generated names (op names count up from trace to trace) and
    without `training` kwargs (the converter drops them: tfjs hands every layer the model's flag)."""
    names = {entry["name"]: i for i, entry in enumerate(config["layers"])}

    def strip(value):
        if isinstance(value, dict):
            if value.get("class_name") == "__keras_tensor__":
                history = value["config"]["keras_history"]
                return ["tensor", names.get(history[0]), history[1], history[2]]
            return {k: strip(v) for k, v in value.items() if k not in ("name", "training")}
        if isinstance(value, (list, tuple)):
            return [strip(v) for v in value]
        return value

    return json.dumps(strip(config["layers"]), sort_keys=True, default=str)


def retrace_layer(layer) -> dict:
    """The layer's re-trace record for the manifest (docs/bundle-format.md, "Symbolic re-trace")."""
    try:
        try:
            node = node_zero(layer)
        except Exception as exc:  # a sub-layer of a custom layer: no node in the model's graph
            raise RetraceRefused(f"not called in the model's graph ({_first_line(exc)})") from exc
        _check_call_arguments(layer, node, dict(node.arguments.kwargs))
        takes_training = "training" in _call_parameters(layer)
        traced = _trace(layer, node, False if takes_training else None)
        if takes_training and _canonical(traced.get_config()) != _canonical(_trace(layer, node, True).get_config()):
            raise RetraceRefused(
                "call() builds a different graph with training=True than with training=False (a Python branch on "
                "`training`); a traced graph holds one branch"
            )
        config = keras.saving.serialize_keras_object(traced)["config"]
        # Only the layer's own variables: a sub-layer's are loaded with its node.
        owned = {id(w): w for w in layer._trainable_variables + layer._non_trainable_variables}
        _weight_references(traced, config, owned)
        layer_paths = _layer_paths(traced, layer)
    except RetraceRefused as exc:
        return {"layer": layer.name, "status": "refused", "reason": str(exc)}
    return {
        "layer": layer.name,
        "status": "traced",
        "config": config,
        # Every own weight, used or not: the converted layer must hold what the bundle holds.
        "own_weights": [
            {"path": w.path, "shape": [int(d) for d in w.shape], "dtype": w.dtype, "trainable": bool(w.trainable)}
            for w in owned.values()
        ],
        "layer_paths": layer_paths,
    }


def _layer_paths(traced, layer) -> dict:
    """For each layer node of the trace that holds weights (a sub-layer), the Keras path its weights
    lie under (`temporal/dense` for `temporal/dense/kernel`): the converter names the node so, and
    tfjs then names its weights as Keras does, which is how they pair with the bundle's."""
    paths = {}
    for sub in traced.layers:
        if not sub.weights:
            continue
        prefixes = {w.path.rsplit("/", 1)[0] for w in sub.weights}
        if len(prefixes) != 1:
            raise RetraceRefused(f"sub-layer {sub.name!r} holds weights under several paths ({', '.join(sorted(prefixes))})")
        paths[sub.name] = prefixes.pop()
    return paths
