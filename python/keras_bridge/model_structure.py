"""Dict inputs and outputs: `keras.Model({"token_ids": ..., "padding_mask": ...}, {"logits": ...})`.

Keras flattens a model's input and output structures in its own order (keras.tree: a dict's keys
sorted), which is the order of `model.inputs` and `model.outputs`. The bundle's `inputs`, `outputs`
and goldens follow that order and are named by their key (`token_ids`, not the InputLayer's name;
`logits`, not the name of the layer that computes it); model.keras.json keeps the dicts as Keras
wrote them, and the converter flattens them in the same order (src/convert/functional-graph.ts).

The export itself runs on `flat_model(model)`: a plain Functional over the same layers and variables
taking and returning lists in that order, since a dict model refuses a list and every pass here
(goldens, training mode, the float64 copy) feeds lists.
"""
from __future__ import annotations

from ._tf import keras
from .subclassed_models import io_structure

# Set on a flat model: the names of its inputs and outputs (goldens.input_names/output_names read them).
NAMES_ATTRIBUTE = "_keras_bridge_io_names"


def is_dict_structure(model, kind: str) -> bool:
    return isinstance(io_structure(model, kind), dict)


def structure_names(model, kind: str) -> list | None:
    """The flattened structure's names, its keys joined by '/', when it holds a dict; else None."""
    structure = io_structure(model, kind)
    if not isinstance(structure, dict):
        return None
    return ["/".join(str(p) for p in path) for path, _ in keras.tree.flatten_with_path(structure)]


def flat_model(model):
    """The model itself when its inputs and outputs are tensors or lists; else the same graph with lists."""
    if not (is_dict_structure(model, "inputs") or is_dict_structure(model, "outputs")):
        return model
    flat = keras.Model(list(model.inputs), list(model.outputs), name=model.name)
    setattr(flat, NAMES_ATTRIBUTE, {"inputs": structure_names(model, "inputs"), "outputs": structure_names(model, "outputs")})
    return flat


def recorded_names(model, kind: str) -> list | None:
    """The names flat_model() recorded for `kind` ("inputs" or "outputs"), or None."""
    return (getattr(model, NAMES_ATTRIBUTE, None) or {}).get(kind)


def structure_record(model) -> dict | None:
    """The manifest's `model.structure`: which of inputs and outputs are dicts, with their keys in order; None for lists."""
    record = {kind: {"kind": "dict", "keys": structure_names(model, kind)} for kind in ("inputs", "outputs") if is_dict_structure(model, kind)}
    return record or None
