"""The goldens: seeded inputs, what Keras computes from them, and the gradients of a seeded loss.

Order of the generator's draws (numpy.random.default_rng(seed)): each model input in order (a
standard normal float32 array, or for integer inputs the draws golden_inputs.py describes), then
one standard normal float32 array per model output (the cotangents). The loss is
sum_i sum(outputs[i] * cotangents[i]) computed in float64; gradients are taken w.r.t. every
float input (an integer input has none) and every trainable weight (model.weights order) in one
GradientTape over the whole model, with finite-difference backward passes through the layers
Python cannot differentiate.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from ._tf import keras, np, tf
from .errors import ExportError
from .finite_difference import FiniteDifferenceLayers
from .golden_inputs import golden_inputs
from .layer_graph import LayerGraph, node_zero, weight_locations
from .progress import Progress

LOSS_DEFINITION = "sum over outputs i of sum(outputs[i] * cotangents[i])"


@dataclass
class GoldenTensor:
    record: dict  # kind, index, name, layer, ... (no location: the packer adds it)
    array: np.ndarray
    dtype: str
    source: str = "keras"
    reference_error: float | None = None


@dataclass
class Goldens:
    tensors: list = field(default_factory=list)
    loss: float = 0.0
    gradients: dict = field(default_factory=dict)


def input_names(graph: LayerGraph) -> list:
    return [layer.name for layer in graph.input_layers]


def output_names(model) -> list:
    names = getattr(model, "output_names", None)
    if names and len(names) == len(model.outputs):
        return [str(n) for n in names]
    return [t._keras_history.operation.name for t in model.outputs]


def _model_arguments(tensors: list):
    return tensors[0] if len(tensors) == 1 else list(tensors)


def _flat_numpy(outputs) -> list:
    return [np.asarray(t.numpy() if hasattr(t, "numpy") else t) for t in tf.nest.flatten(outputs)]


def layer_output_tensors(graph: LayerGraph) -> list:
    """(layer, index, symbolic tensor) for every output tensor of every layer's node 0."""
    return [
        (layer, index, tensor)
        for layer in graph.layers
        for index, tensor in enumerate(node_zero(layer).output_tensors)
    ]


@contextlib.contextmanager
def op_determinism():
    """tf.config.experimental.enable_op_determinism() for the duration (restored afterwards)."""
    from tensorflow.python.framework import config as tf_config

    was_enabled = tf_config.is_op_determinism_enabled()
    tf.config.experimental.enable_op_determinism()
    try:
        yield
    finally:
        if not was_enabled:
            tf_config.disable_op_determinism()


def _taped_gradients(model, inputs: list, cotangents: list, weights: list, fd, step_scale: float):
    """The loss, and its gradients w.r.t. the differentiable inputs followed by `weights`."""
    installed = fd.installed(step_scale) if fd is not None else contextlib.nullcontext()
    with installed:
        x = [tf.constant(i.array) for i in inputs]
        watched = [tensor for tensor, i in zip(x, inputs) if i.differentiable]
        with tf.GradientTape() as tape:
            for tensor in watched:
                tape.watch(tensor)
            outputs = tf.nest.flatten(model(_model_arguments(x), training=False))
            loss = tf.add_n(
                [
                    tf.reduce_sum(tf.cast(o, tf.float64) * tf.constant(c, tf.float64))
                    for o, c in zip(outputs, cotangents)
                ]
            )
        grads = tape.gradient(loss, watched + weights, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return float(loss.numpy()), [np.asarray(tf.convert_to_tensor(g).numpy()) for g in grads]


def compute_goldens(
    model,
    graph: LayerGraph,
    fd_layer_names: list,
    *,
    seed: int,
    batch_size: int,
    input_ranges: dict,
    progress: Progress = None,
) -> Goldens:
    rng = np.random.default_rng(seed)
    goldens = Goldens()
    add = goldens.tensors.append
    in_names = input_names(graph)
    out_names = output_names(model)

    inputs = golden_inputs(model, graph, in_names, rng, batch_size, input_ranges)
    for i, golden in enumerate(inputs):
        record = {"kind": "input", "index": i, "name": golden.name}
        if golden.integer_range is not None:
            record["integer_range"] = golden.integer_range.record()
        if golden.masked_timesteps is not None:
            record["masked_timesteps"] = golden.masked_timesteps
        add(GoldenTensor(record, golden.array, golden.dtype))

    x = [tf.constant(i.array) for i in inputs]
    outputs = _flat_numpy(model(_model_arguments(x), training=False))
    for i, (name, array) in enumerate(zip(out_names, outputs)):
        add(GoldenTensor({"kind": "output", "index": i, "name": name}, array, array.dtype.name))

    cotangents = []
    for i, (name, array) in enumerate(zip(out_names, outputs)):
        if not np.issubdtype(array.dtype, np.floating):
            raise ExportError(f"model output {name!r} has dtype {array.dtype.name}; gradients need float outputs")
        cotangent = rng.standard_normal(array.shape, dtype=np.float32)
        cotangents.append(cotangent)
        add(GoldenTensor({"kind": "cotangent", "index": i, "name": name}, cotangent, "float32"))

    probes = layer_output_tensors(graph)
    # Named explicitly so that it does not use up Keras' "functional_N" auto names.
    probe = keras.Model(model.inputs, [tensor for _, _, tensor in probes], name="keras_bridge_layer_outputs")
    probe_values = _flat_numpy(probe(_model_arguments(x), training=False))
    for (layer, index, _), array in zip(probes, probe_values):
        add(GoldenTensor({"kind": "layer_output", "layer": layer.name, "node": 0, "index": index}, array, array.dtype.name))

    # Gradients: one tape, finite differences through the layers listed.
    by_name = {layer.name: layer for layer in graph.layers}
    fd_layers = [by_name[name] for name in fd_layer_names]
    fd = FiniteDifferenceLayers(fd_layers, progress) if fd_layers else None
    trainable = [weight for weight, _, _ in weight_locations(model) if weight.trainable]
    loss, grads = _taped_gradients(model, inputs, cotangents, trainable, fd, 1.0)
    goldens.loss = loss

    # What depends on a finite-difference layer: the layer itself and everything upstream of it.
    fd_dependent: set = set()
    for layer in fd_layers:
        fd_dependent.add(id(layer))
        fd_dependent |= graph.ancestors(layer)
    half_step = None
    if fd is not None:
        _, half_step = _taped_gradients(model, inputs, cotangents, trainable, fd, 0.5)

    def gradient(record: dict, index: int, depends_on_fd: bool, dtype: str) -> GoldenTensor:
        array = grads[index]
        if not depends_on_fd:
            return GoldenTensor(record, array, dtype, "autodiff", None)
        diff = np.abs(array.astype(np.float64) - half_step[index].astype(np.float64))
        error = float(np.max(diff)) if diff.size else 0.0
        return GoldenTensor(record, array, dtype, "finite_difference", error)

    # Integer inputs have no gradient: neither a golden nor a slot in `grads`.
    differentiable = [(i, golden) for i, golden in enumerate(inputs) if golden.differentiable]
    for offset, (i, golden) in enumerate(differentiable):
        depends = id(graph.input_layers[i]) in fd_dependent
        add(gradient({"kind": "grad_input", "index": i, "name": golden.name}, offset, depends, "float32"))

    trainable_locations = [loc for loc in weight_locations(model) if loc[0].trainable]
    for offset, (weight, layer, index) in enumerate(trainable_locations, start=len(differentiable)):
        record = {
            "kind": "grad_weight",
            "layer": layer.name,
            "index": index,
            "name": weight.name,
            "path": weight.path,
        }
        depends = id(layer) in fd_dependent
        add(gradient(record, offset, depends, tf.as_dtype(weight.dtype).name))

    goldens.gradients = {
        "method": "autodiff+finite_difference" if fd_layers else "autodiff",
        "finite_difference_layers": [layer.name for layer in fd_layers],
        "finite_difference": fd.settings() if fd is not None else None,
    }
    return goldens
