"""The goldens: seeded inputs, what Keras computes from them, and the gradients of a seeded loss.

Order of the generator's draws (numpy.random.default_rng(seed)): each model input in order (a
standard normal float32 array, or for integer and bool inputs the draws golden_inputs.py
describes), then one standard normal float32 array per float model output (the cotangents; an
integer or bool output's cotangent is zeros, not drawn). The loss is
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
from .layer_gradients import LayerOutputTaps
from .layer_graph import LayerGraph, node_zero, weight_locations
from .model_structure import recorded_names
from .progress import Progress

LOSS_DEFINITION = "sum over outputs i of sum(outputs[i] * cotangents[i])"


@dataclass
class GoldenTensor:
    record: dict  # kind, index, name, layer, ... (no location: the packer adds it)
    array: np.ndarray
    dtype: str
    source: str = "keras"
    reference_error: float | None = None
    # float64_reference.py: whether the export measured it, and its float32 error (None: not measured)
    float64_checked: bool = False
    float64_error: float | None = None
    # kernel_variants.py: max |Keras's other float32 kernel variants - float64|; None: not measured
    kernel_variant_error: float | None = None


@dataclass
class Goldens:
    tensors: list = field(default_factory=list)
    loss: float = 0.0
    gradients: dict = field(default_factory=dict)
    # What the training goldens start from (not written as such):
    inputs: list = field(default_factory=list)  # GoldenInput per model input
    cotangents: list = field(default_factory=list)  # float32 array per model output
    layer_outputs: list = field(default_factory=list)  # inference values, layer_output_probe() order
    fd_layers: list = field(default_factory=list)
    fd: FiniteDifferenceLayers | None = None


def input_names(graph: LayerGraph) -> list:
    """The InputLayers' names; a dict input's key (model_structure.py)."""
    return recorded_names(graph.model, "inputs") or [layer.name for layer in graph.input_layers]


def output_names(model) -> list:
    """The model's output names; a dict output's key (model_structure.py)."""
    recorded = recorded_names(model, "outputs")
    if recorded:
        return recorded
    names = getattr(model, "output_names", None)
    if names and len(names) == len(model.outputs):
        return [str(n) for n in names]
    return [t._keras_history.operation.name for t in model.outputs]


def model_arguments(tensors: list):
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


def taped_gradients(model, inputs: list, cotangents: list, weights: list, fd, step_scale: float, *, training: bool = False, around=None, watch_inputs: bool = True):
    """The loss, and its gradients w.r.t. the differentiable inputs (unless not `watch_inputs`) followed by `weights`.

    `around`, if given, is a context manager entered inside the finite-difference wrappers (the
    training-mode goldens replay their random draws in it).
    """
    installed = fd.installed(step_scale) if fd is not None else contextlib.nullcontext()
    with installed, around if around is not None else contextlib.nullcontext():
        x = [tf.constant(i.array) for i in inputs]
        watched = [tensor for tensor, i in zip(x, inputs) if i.differentiable and watch_inputs]
        with tf.GradientTape() as tape:
            for tensor in watched:
                tape.watch(tensor)
            outputs = tf.nest.flatten(model(model_arguments(x), training=training))
            # An integer or bool output takes no part in the loss (its cotangent is zeros).
            terms = [
                tf.reduce_sum(tf.cast(o, tf.float64) * tf.constant(c, tf.float64))
                for o, c in zip(outputs, cotangents)
                if o.dtype.is_floating
            ]
            loss = tf.add_n(terms) if terms else None
        if loss is not None:
            grads = tape.gradient(loss, watched + weights, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        else:
            # No float output: the loss is 0 and so is every gradient (TensorFlow's tape fails on a
            # gradient-less integer graph, even for unconnected sources).
            loss = tf.constant(0.0, tf.float64)
            grads = [tf.zeros_like(source) for source in watched + weights]
    return float(loss.numpy()), [np.asarray(tf.convert_to_tensor(g).numpy()) for g in grads]


def layer_output_probe(model, graph: LayerGraph):
    """(layer, index) of every layer output tensor, and a model whose outputs are those tensors."""
    probes = layer_output_tensors(graph)
    # Named explicitly so that it does not use up Keras' "functional_N" auto names.
    probe = keras.Model(model.inputs, [tensor for _, _, tensor in probes], name="keras_bridge_layer_outputs")
    return [(layer, index) for layer, index, _ in probes], probe


def layer_output_goldens(locations: list, values: list) -> list:
    return [
        GoldenTensor({"kind": "layer_output", "layer": layer.name, "node": 0, "index": index}, array, array.dtype.name)
        for (layer, index), array in zip(locations, values)
    ]


def fd_dependent_layers(graph: LayerGraph, fd_layers: list) -> set:
    """ids of what depends on a finite-difference layer: the layer itself and everything upstream of it."""
    dependent: set = set()
    for layer in fd_layers:
        dependent.add(id(layer))
        dependent |= graph.ancestors(layer)
    return dependent


def gradient_goldens(model, graph: LayerGraph, inputs: list, fd_layers: list, grads: list, half_step) -> list:
    """grad_input goldens for the float inputs, then grad_weight goldens for the trainable weights."""
    fd_dependent = fd_dependent_layers(graph, fd_layers)

    def gradient(record: dict, index: int, depends_on_fd: bool, dtype: str) -> GoldenTensor:
        array = grads[index]
        if not depends_on_fd:
            return GoldenTensor(record, array, dtype, "autodiff", None)
        diff = np.abs(array.astype(np.float64) - half_step[index].astype(np.float64))
        error = float(np.max(diff)) if diff.size else 0.0
        return GoldenTensor(record, array, dtype, "finite_difference", error)

    tensors = []
    # Integer inputs have no gradient: neither a golden nor a slot in `grads`.
    differentiable = [(i, golden) for i, golden in enumerate(inputs) if golden.differentiable]
    for offset, (i, golden) in enumerate(differentiable):
        depends = id(graph.input_layers[i]) in fd_dependent
        tensors.append(gradient({"kind": "grad_input", "index": i, "name": golden.name}, offset, depends, "float32"))

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
        tensors.append(gradient(record, offset, depends, tf.as_dtype(weight.dtype).name))
    return tensors


def trainable_weights(model) -> list:
    return [weight for weight, _, _ in weight_locations(model) if weight.trainable]


def _cotangent(rng, name: str, output: np.ndarray) -> tuple:
    """A float output's cotangent is standard normal; an integer or bool output's (an argmax head,
    a mask) is zeros, not drawn: it has no gradient, so it takes no part in the loss, and is compared
    forward only."""
    if np.issubdtype(output.dtype, np.floating):
        return rng.standard_normal(output.shape, dtype=np.float32), {}
    if np.issubdtype(output.dtype, np.integer) or output.dtype == np.bool_:
        return np.zeros(output.shape, np.float32), {"zero": f"output {name!r} is {output.dtype.name}: not in the loss"}
    raise ExportError(f"model output {name!r} has dtype {output.dtype.name}; outputs must be float, integer or bool")


def compute_goldens(
    model,
    graph: LayerGraph,
    fd_layer_names: list,
    *,
    seed: int,
    batch_size: int,
    input_ranges: dict,
    layer_gradients: str = "auto",
    progress: Progress = None,
    shapes: dict | None = None,
    rng=None,
) -> Goldens:
    """The goldens at one size: `shapes` (input name -> full shape) sizes the open dimensions
    (input_shapes.py); `rng` defaults to numpy.random.default_rng(seed)."""
    rng = np.random.default_rng(seed) if rng is None else rng
    goldens = Goldens()
    add = goldens.tensors.append
    in_names = input_names(graph)
    out_names = output_names(model)

    inputs = golden_inputs(model, graph, in_names, rng, batch_size, input_ranges, shapes)
    for i, golden in enumerate(inputs):
        add(GoldenTensor({"kind": "input", "index": i, "name": golden.name, **golden.record()}, golden.array, golden.dtype))
    goldens.inputs = inputs

    x = [tf.constant(i.array) for i in inputs]
    outputs = _flat_numpy(model(model_arguments(x), training=False))
    for i, (name, array) in enumerate(zip(out_names, outputs)):
        add(GoldenTensor({"kind": "output", "index": i, "name": name}, array, array.dtype.name))

    for i, (name, array) in enumerate(zip(out_names, outputs)):
        cotangent, record = _cotangent(rng, name, array)
        goldens.cotangents.append(cotangent)
        add(GoldenTensor({"kind": "cotangent", "index": i, "name": name, **record}, cotangent, "float32"))

    locations, probe = layer_output_probe(model, graph)
    goldens.layer_outputs = _flat_numpy(probe(model_arguments(x), training=False))
    goldens.tensors.extend(layer_output_goldens(locations, goldens.layer_outputs))

    # Gradients: one tape, finite differences through the layers listed.
    by_name = {layer.name: layer for layer in graph.layers}
    goldens.fd_layers = [by_name[name] for name in fd_layer_names]
    fd = FiniteDifferenceLayers(goldens.fd_layers, progress) if goldens.fd_layers else None
    goldens.fd = fd
    trainable = trainable_weights(model)
    taps = LayerOutputTaps.planned(graph, locations, goldens.layer_outputs, layer_gradients)
    loss, grads = taped_gradients(model, inputs, goldens.cotangents, trainable, fd, 1.0, around=taps.installed())
    layer_grads, layer_half_step = taps.gradients(), None
    goldens.loss = loss
    half_step = None
    if fd is not None:
        _, half_step = taped_gradients(model, inputs, goldens.cotangents, trainable, fd, 0.5, around=taps.installed())
        layer_half_step = taps.gradients()
    goldens.tensors.extend(gradient_goldens(model, graph, inputs, goldens.fd_layers, grads, half_step))
    goldens.tensors.extend(taps.goldens(layer_grads, layer_half_step, goldens.fd_layers))

    goldens.gradients = {
        "method": "autodiff+finite_difference" if fd is not None else "autodiff",
        "finite_difference_layers": [layer.name for layer in goldens.fd_layers],
        "finite_difference": fd.settings() if fd is not None else None,
        "layer_output_gradients": taps.policy,
    }
    return goldens
