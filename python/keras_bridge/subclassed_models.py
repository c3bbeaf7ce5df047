"""Subclassed functional models: `keras.Model` subclasses that build their graph in `__init__`.

Libraries ship models as `class Backbone(keras.Model)` whose `__init__` builds a graph from
`keras.Input` and ends with `super().__init__(inputs, outputs)`. Keras then injects `Functional`
into the class's bases (keras/src/models/model.py, inject_functional_model_class), so the live
model has the layer graph, but its `get_config()` holds only constructor arguments: nothing can
convert it from its config alone. The exporter records the graph instead: re-wrapping the live
model, `keras.Model(model's inputs, model's outputs)`, gives a plain Functional over the same layer
objects and variables, whose config lists the layers and operation nodes. That config (with every
nested subclassed model recorded the same way) is what model.keras.json holds, each recorded graph
carrying its original class and constructor config under `subclassed_model`
(docs/bundle-format.md).

A subclass with its own `call()` (an imperative model) has no graph to record: it is refused.
"""
from __future__ import annotations

from keras.src.models.functional import Functional  # the class Keras injects into the subclass's bases
from keras.src.models.sequential import Sequential

from ._tf import keras
from .errors import ExportError

# The key each recorded graph's entry carries, beside Keras's own class_name/config/...
SUBCLASSED_MODEL_KEY = "subclassed_model"

IMPERATIVE_ADVICE = (
    "its layer graph exists only as the Python code of call(), which keras-bridge does not record. "
    "What works: build the graph in __init__ from keras.Input and end it with "
    "super().__init__(inputs, outputs) (a subclassed functional model, recorded and converted like "
    "a functional one), or call the model as a layer inside a functional model and register a "
    "TypeScript implementation of its class like a custom layer's"
)

def _stock_base(model):
    """Functional or Sequential when the model is one underneath, else None."""
    for base in (Functional, Sequential):
        if isinstance(model, base):
            return base
    return None


def describe_class(model) -> str:
    cls = type(model)
    registered = keras.saving.get_registered_name(cls)
    named = f", registered as {registered!r}" if registered and registered != cls.__name__ else ""
    return f"class {cls.__name__} (module {cls.__module__!r}{named})"


def is_subclassed_model(model) -> bool:
    """A keras.Model whose class is neither keras's Functional nor Sequential (nor keras.Model itself)."""
    return isinstance(model, keras.Model) and type(model) not in (Functional, Sequential, keras.Model)


def is_recorded_model(layer) -> bool:
    """A subclassed model whose graph the exporter records (checked by check_recordable)."""
    return is_subclassed_model(layer) and _stock_base(layer) is not None


def check_recordable(model, where: str) -> None:
    """ExportError unless a subclassed model's graph can be recorded; `where` names it in the message."""
    base = _stock_base(model)
    if base is None:
        raise ExportError(
            f"{where} is a subclassed keras.Model with its own call(), {describe_class(model)}: {IMPERATIVE_ADVICE}"
        )
    own_call = type(model).call
    if own_call is not base.call:
        owner = next((c.__name__ for c in type(model).__mro__ if "call" in vars(c)), type(model).__name__)
        raise ExportError(
            f"{where} is a subclassed functional model, {describe_class(model)}, but {owner} overrides "
            f"call(), so its recorded graph need not compute what the model computes; {IMPERATIVE_ADVICE}"
        )


def io_structure(model, kind: str):
    """The model's inputs or outputs as its graph was built (a tensor, a list or a dict)."""
    holder = model if isinstance(model, Functional) else getattr(model, "_functional", None)
    structure = getattr(holder, f"_{kind}_struct", None)
    if structure is None:
        tensors = list(getattr(model, kind))
        return tensors[0] if len(tensors) == 1 else tensors
    return structure


def rewrapped(model):
    """keras.Model over the model's own inputs and outputs: a plain Functional sharing its layers and variables."""
    return keras.Model(io_structure(model, "inputs"), io_structure(model, "outputs"), name=model.name)


def original_class(model) -> dict:
    """What the model was, for reference: its class and its constructor config as Keras serializes it."""
    cls = type(model)
    serialized = keras.saving.serialize_keras_object(model)
    return {
        "class_name": cls.__name__,
        "registered_name": keras.saving.get_registered_name(cls),
        "module": cls.__module__,
        "config": serialized.get("config") if isinstance(serialized, dict) else None,
    }


def exported_model(model):
    """The model the export works on: a subclassed functional model's re-wrapped graph, else the
    model itself. Every subclassed model inside whose graph will be recorded is checked first, so
    that one which cannot be is refused before anything is computed (a nested imperative model
    stays a custom class, as any custom layer)."""
    if is_subclassed_model(model):
        check_recordable(model, f"model {model.name!r}")
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if is_recorded_model(layer):
            check_recordable(layer, f"layer {layer.name!r} of model {model.name!r}")
    return rewrapped(model) if is_subclassed_model(model) else model


def model_config(model) -> dict:
    """keras.saving.serialize_keras_object(model), with the model and every model nested in it
    that is a subclassed functional model replaced by its recorded graph (a Functional config),
    each with its original class under SUBCLASSED_MODEL_KEY."""
    recorded = is_recorded_model(model)
    if recorded:
        check_recordable(model, f"model {model.name!r}")
    graph_model = rewrapped(model) if recorded else model
    serialized = keras.saving.serialize_keras_object(graph_model)
    if recorded:
        serialized[SUBCLASSED_MODEL_KEY] = original_class(model)
    layers = serialized.get("config", {}).get("layers") if isinstance(serialized.get("config"), dict) else None
    if isinstance(layers, list):
        by_name = {layer.name: layer for layer in getattr(graph_model, "layers", [])}
        for entry in layers:
            if not isinstance(entry, dict):
                continue
            name = entry.get("name") or (entry.get("config") or {}).get("name")
            layer = by_name.get(name)
            if not isinstance(layer, keras.Model):
                continue
            if is_subclassed_model(layer) and not is_recorded_model(layer):
                continue  # an imperative model used as a layer: a custom class, as before
            nested = model_config(layer)
            for key in ("module", "class_name", "registered_name", "config", SUBCLASSED_MODEL_KEY):
                if key in nested:
                    entry[key] = nested[key]
    return serialized
