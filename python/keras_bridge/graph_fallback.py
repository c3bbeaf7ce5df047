"""Route 3 of issue 11: a custom layer's call() traced into a TensorFlow graph, for tfjs-converter.

For a layer that neither a TypeScript class nor a symbolic re-trace (retrace.py) covers, the
exporter traces `layer.stateless_call(trainable, non_trainable, *inputs, training=...)` with
`tf.function` over an input signature whose batch dimension is None. The layer's variables are
arguments of that function, so they become Placeholder nodes of the graph (fed by the converted
layer from its own tfjs weights: trained and differentiated there), not frozen constants.
`convert_variables_to_constants_v2` (on a function with no variables left) inlines the nested
function calls Keras makes (a sub-layer's call is a PartitionedCall), so the GraphDef is flat: what
tfjs-converter's executor runs. The GraphDef is written as tfjs's GraphModel JSON writes it
(protobuf's json_format, camelCase keys) with every Const node's value moved out to a weights
manifest whose bytes go into the bundle's graphs.bin, as tfjs-converter's model.json does.

Whether tfjs-converter can run every op is the converter's to say (it knows its own op list):
the record lists the ops used, each with the user's line that made it first, so that a refusal can
name the line (docs/bundle-format.md, "Graph fallback").
"""
from __future__ import annotations

import inspect
import linecache
import traceback

import numpy as np

from ._tf import keras, tf
from .bundle_writer import TensorPack
from .layer_graph import node_zero

GRAPHS_FILE = "graphs.bin"

# Const dtypes as tfjs-converter stores them: int64 is written as int32, as its own converter does.
_CONST_DTYPES = {tf.float32: "float32", tf.int32: "int32", tf.int64: "int32", tf.bool: "bool", tf.float64: "float32"}


class GraphRefused(Exception):
    """The layer's call() does not trace into a graph; str() says why."""


def _user_frame(frames, file: str | None) -> str:
    """`file:line: code` of the deepest frame in the user's class's source file, or ''."""
    mine = [f for f in frames if file and f.filename == file]
    if not mine:
        return ""
    frame = mine[-1]
    # TensorFlow's op tracebacks carry no line text: read it from the file.
    line = (getattr(frame, "line", None) or linecache.getline(frame.filename, frame.lineno)).strip()
    return f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}: {line}"


def _source_file(layer) -> str | None:
    try:
        return inspect.getsourcefile(type(layer))
    except TypeError:
        return None


def _signature(layer):
    """The call's inputs as TensorSpecs (batch None), which call argument each is (None: a
    positional one; else the keyword's name), how to rebuild its args and kwargs, and the node.

    Tensor keyword arguments (`padding_mask=m`) are inputs of the graph after the positional ones:
    the converter hands them over by name (a KerasBridgeCallArguments adapter passes them to the
    graph layer's call())."""
    node = node_zero(layer)
    arguments = node.arguments
    kwargs = {k: v for k, v in arguments.kwargs.items() if k not in ("training", "mask")}
    keyword_tensors = []
    for key, value in kwargs.items():
        tensors = [t for t in keras.tree.flatten(value) if isinstance(t, keras.KerasTensor)]
        if not tensors:
            continue
        if not isinstance(value, keras.KerasTensor):
            raise GraphRefused(f"called with the keyword argument {key}= holding a structure of tensors; the graph takes single tensors by keyword")
        keyword_tensors.append((key, value))
    if isinstance(arguments.kwargs.get("mask"), keras.KerasTensor) or any(
        getattr(t, "_keras_mask", None) is not None for t in arguments.keras_tensors
    ):
        raise GraphRefused("receives a Keras mask from the layer before it; the graph does not carry masks")
    positional = [t for t in keras.tree.flatten(list(arguments.args)) if isinstance(t, keras.KerasTensor)]
    tensors = positional + [t for _, t in keyword_tensors]
    if not positional:
        raise GraphRefused("its first call has no positional tensor input")
    arguments_of = [None] * len(positional) + [key for key, _ in keyword_tensors]
    specs = [
        tf.TensorSpec([None, *t.shape[1:]], t.dtype, name=f"input_{i}") for i, t in enumerate(tensors)
    ]
    # One graph input per call argument: a tensor passed twice is fed twice.
    index = {id(t): i for i, t in enumerate(tensors)}
    return specs, arguments_of, list(arguments.args), index, kwargs, node


def _concrete(layer, specs, args, index, kwargs, training):
    trainable = list(layer.trainable_variables)
    non_trainable = list(layer.non_trainable_variables)
    weight_specs = [tf.TensorSpec(w.shape, w.dtype, name=f"weight_{i}") for i, w in enumerate(trainable + non_trainable)]
    call_kwargs = dict(kwargs)
    if training is not None:
        call_kwargs["training"] = training

    def traced(*flat):
        inputs, weights = flat[: len(specs)], flat[len(specs):]
        rebuild = lambda v: inputs[index[id(v)]] if id(v) in index else v  # noqa: E731
        rebuilt = keras.tree.map_structure(rebuild, args)
        rebuilt_kwargs = {k: keras.tree.map_structure(rebuild, v) for k, v in call_kwargs.items()}
        outputs, _ = layer.stateless_call(list(weights[: len(trainable)]), list(weights[len(trainable):]), *rebuilt, **rebuilt_kwargs)
        return outputs

    function = tf.function(traced, input_signature=specs + weight_specs, autograph=False)
    return function.get_concrete_function(), trainable + non_trainable


def _flat_graph(concrete):
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    # No variables are captured (the weights are arguments): this only inlines the function calls.
    return convert_variables_to_constants_v2(concrete)


def _graph_record(frozen, original, pack: TensorPack, what: str, source_file) -> dict:
    from google.protobuf import json_format

    graph_def = frozen.graph.as_graph_def()
    if graph_def.library.function:
        names = ", ".join(f.signature.name for f in graph_def.library.function)
        raise GraphRefused(f"the traced graph keeps nested functions ({names}) that could not be inlined")
    constants = []
    for node in graph_def.node:
        if node.op != "Const":
            continue
        value = tf.make_ndarray(node.attr["value"].tensor)
        dtype = _CONST_DTYPES.get(tf.as_dtype(value.dtype))
        if dtype is None:
            raise GraphRefused(f"the graph's constant {node.name!r} is {value.dtype}, which tfjs cannot hold")
        location = pack.add(np.asarray(value).astype(dtype), dtype, f"{what}: graph constant {node.name!r}")
        constants.append({"name": node.name, **location})
        # As tfjs-converter writes model.json: the value lives in the weights, the node keeps dtype and shape.
        tensor = node.attr["value"].tensor
        shape, dtype_enum = tensor.tensor_shape, tensor.dtype
        tensor.Clear()
        tensor.dtype = dtype_enum
        tensor.tensor_shape.CopyFrom(shape)
    topology = _deterministic(json_format.MessageToDict(graph_def))
    where = _creation_sites(original, source_file)
    ops = sorted({n.op for n in graph_def.node})
    return {
        "topology": topology,
        "constants": constants,
        "nodes": len(graph_def.node),
        "constant_bytes": sum(c["byte_length"] for c in constants),
        "ops": [{"op": op, **({"at": where[op]} if where.get(op) else {})} for op in ops],
    }


# Attributes that name per-process state (a py_function's registry token): the same layer traced in
# another process must give the same record.
_PROCESS_ATTRIBUTES = frozenset({"token"})


def _deterministic(topology: dict) -> dict:
    """The topology with each node's attributes in name order and per-process ones left out."""
    for node in topology.get("node", []):
        node["attr"] = {k: node["attr"][k] for k in sorted(node.get("attr", {})) if k not in _PROCESS_ATTRIBUTES}
    return topology


def _creation_sites(concrete, source_file) -> dict:
    """Op type -> `file:line: code` of the user's line that first made one, from the traced
    function's graph (its ops keep the Python stack they were made under)."""
    sites: dict = {}

    def walk(graph):
        for op in graph.get_operations():
            if not sites.get(op.type):
                stack = getattr(op, "traceback", None) or []
                sites[op.type] = _user_frame(stack, source_file)
        for function in getattr(graph, "_functions", {}).values():
            inner = getattr(function, "graph", None)
            if inner is not None:
                walk(inner)

    walk(concrete.graph)
    return sites


def graph_layer(layer, pack: TensorPack) -> dict:
    """The layer's graph-fallback record for the manifest (docs/bundle-format.md, "Graph fallback");
    the graphs' constants are appended to `pack` (the bundle's graphs.bin)."""
    source_file = _source_file(layer)
    try:
        try:
            specs, arguments_of, args, index, kwargs, node = _signature(layer)
        except GraphRefused:
            raise
        except Exception as exc:  # a sub-layer of a custom layer: no node in the model's graph
            raise GraphRefused(f"not called in the model's graph ({type(exc).__name__}: {exc})") from exc
        takes_training = "training" in inspect.signature(layer.call).parameters
        modes = {"inference": False, "training": True} if takes_training else {"inference": None}
        traced = {}
        for mode, training in modes.items():
            try:
                concrete, variables = _concrete(layer, specs, args, index, kwargs, training)
                frozen = _flat_graph(concrete)
            except GraphRefused:
                raise
            except Exception as exc:  # the user's code: any exception means "does not trace"
                where = _user_frame(traceback.extract_tb(exc.__traceback__), source_file)
                first = (str(exc).strip().splitlines() or [""])[0]
                raise GraphRefused(f"{type(exc).__name__}: {first}{f' (at {where})' if where else ''}") from exc
            traced[mode] = (concrete, frozen)
        if "training" in traced:
            same = traced["training"][1].graph.as_graph_def().SerializeToString(deterministic=True) == traced["inference"][
                1
            ].graph.as_graph_def().SerializeToString(deterministic=True)
            if same:  # one graph serves both
                del traced["training"]
        records = {mode: _graph_record(frozen, concrete, pack, f"layer {layer.name!r} ({mode})", source_file) for mode, (concrete, frozen) in traced.items()}
        inference = traced["inference"][1]
    except GraphRefused as exc:
        return {"layer": layer.name, "status": "refused", "reason": str(exc)}
    prefix = f"{layer.path}/"
    return {
        "layer": layer.name,
        "status": "traced",
        "inputs": [
            {
                "name": t.name.split(":")[0],
                "shape": [None if d is None else int(d) for d in spec.shape],
                "dtype": spec.dtype.name,
                **({"keyword": keyword} if keyword else {}),
            }
            for t, spec, keyword in zip(inference.inputs[: len(specs)], specs, arguments_of)
        ],
        "outputs": [
            {"name": t.name, "shape": [None, *(None if d is None else int(d) for d in kt.shape[1:])], "dtype": kt.dtype}
            for t, kt in zip(inference.outputs, node.output_tensors)
        ],
        # Placeholder i + len(inputs) is weight i: the layer's trainable variables, then the others.
        "weights": [
            {
                "input": t.name.split(":")[0],
                "path": w.path,
                "name": w.path[len(prefix):] if w.path.startswith(prefix) else w.path,
                "shape": [int(d) for d in w.shape],
                "dtype": w.dtype,
                "trainable": bool(w.trainable),
            }
            for t, w in zip(inference.inputs[len(specs):], variables)
        ],
        "graphs": records,
    }
