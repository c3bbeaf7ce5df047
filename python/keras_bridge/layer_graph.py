"""The model's layer graph: who feeds whom, each layer's node 0, and which weights belong where.

Built by walking back from `model.outputs` through each KerasTensor's `_keras_history`, so only
the nodes of this model's graph count (a layer reused in another model adds nodes elsewhere).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import ExportError


@dataclass
class LayerGraph:
    model: object  # a keras.Model
    layers: list  # model.layers, in order
    input_layers: list  # the InputLayer behind each of model.inputs
    parents: dict = field(default_factory=dict)  # id(op) -> set of id(parent op)

    def ancestors(self, op) -> set:
        """ids of every operation upstream of `op` (not `op` itself)."""
        seen: set = set()
        stack = list(self.parents.get(id(op), ()))
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            stack.extend(self.parents.get(current, ()))
        return seen


def _history(tensor):
    history = getattr(tensor, "_keras_history", None)
    if history is None:
        raise ExportError(f"model tensor {tensor!r} has no Keras history; is the model functional?")
    return history


def node_zero(layer):
    """The layer's inbound node 0, whose tensors the manifest and the goldens describe."""
    nodes = getattr(layer, "_inbound_nodes", None) or []
    if not nodes:
        raise ExportError(f"layer {layer.name!r} was never called on a symbolic input; cannot describe it")
    return nodes[0]


def build_layer_graph(model) -> LayerGraph:
    """The graph of a built functional or Sequential model; ExportError for anything else."""
    name = getattr(model, "name", type(model).__name__)
    try:
        inputs = list(model.inputs)
        outputs = list(model.outputs)
    except (AttributeError, ValueError) as exc:
        raise ExportError(
            f"model {name!r} has no symbolic inputs/outputs ({exc}); export a functional or Sequential "
            "model built with an input shape"
        ) from None
    if not inputs or not outputs:
        raise ExportError(
            f"model {name!r} has no symbolic inputs/outputs; export a functional or Sequential "
            "model built with an input shape (e.g. start it with keras.Input(...))"
        )
    graph = LayerGraph(
        model=model,
        layers=list(model.layers),
        input_layers=[_history(t).operation for t in inputs],
    )
    seen_nodes: set = set()
    stack = list(outputs)
    while stack:
        tensor = stack.pop()
        history = _history(tensor)
        op = history.operation
        node = op._inbound_nodes[history.node_index]
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        for parent_tensor in node.input_tensors:
            parent_op = _history(parent_tensor).operation
            graph.parents.setdefault(id(op), set()).add(id(parent_op))
            stack.append(parent_tensor)
    return graph


def weight_locations(model) -> list:
    """(weight, owner, index) for each of model.weights, in order.

    The owner is the first layer of model.layers whose `weights` hold the variable (index: its
    position there); a variable no layer owns (a model-level weight) is owned by the model,
    index = its position in model.weights.
    """
    owners: dict = {}
    for layer in model.layers:
        for index, weight in enumerate(layer.weights):
            owners.setdefault(id(weight), (layer, index))
    return [
        (weight, *owners.get(id(weight), (model, position)))
        for position, weight in enumerate(model.weights)
    ]


def flatten_layers(model) -> list:
    """Every layer inside the model, nested ones included (not the model itself)."""
    return list(model._flatten_layers(include_self=False, recursive=True))


def shape_list(shape) -> list:
    return [None if d is None else int(d) for d in tuple(shape)]
