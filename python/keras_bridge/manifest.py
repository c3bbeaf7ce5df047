"""manifest.json records: producer, model, inputs/outputs, layers, custom layers, weights."""
from __future__ import annotations

import platform

from . import __version__
from ._tf import keras, np, tf
from .bundle_writer import BUNDLE_FORMAT, FORMAT_VERSION, TensorPack, bundle_dtype
from .class_source import source_records, user_base_classes
from .differentiability import Differentiability
from .layer_graph import LayerGraph, flatten_layers, node_zero, shape_list
from .python_only import python_only_constructs
from .graph_fallback import graph_layer
from .retrace import retrace_layer
from .translation import keras_sub_layer_names, translation_record
from .subclassed_models import SUBCLASSED_MODEL_KEY, is_recorded_model, model_config


def producer() -> dict:
    return {
        "keras_bridge": __version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def is_custom(cls) -> bool:
    """False for classes that come with the keras package, true for everything else."""
    return (cls.__module__ or "").split(".")[0] != "keras"


def registered_name(cls) -> str | None:
    return keras.saving.get_registered_name(cls)


def serialized_config(layer) -> dict:
    """layer.get_config(), with nested Keras objects serialized as in model.keras.json."""
    config = layer.get_config()
    serialized = keras.saving.serialize_keras_object(config)
    return serialized if isinstance(serialized, dict) else config


def io_records(tensors, names) -> list:
    return [
        {"name": name, "shape": shape_list(t.shape), "dtype": bundle_dtype(t.dtype, f"model tensor {name!r}")}
        for t, name in zip(tensors, names)
    ]


def weight_record(weight) -> dict:
    return {
        "name": weight.name,
        "path": weight.path,
        "shape": [int(d) for d in weight.shape],
        "dtype": bundle_dtype(weight.dtype, f"weight {weight.path!r}"),
        "trainable": bool(weight.trainable),
    }


def _class_fields(layer) -> dict:
    """class_name, registered_name, module, custom and config, as model.keras.json has them: a
    subclassed functional model used as a layer is there as its recorded graph (a Functional)."""
    if is_recorded_model(layer):
        recorded = model_config(layer)
        return {
            "class_name": recorded["class_name"],
            "registered_name": recorded.get("registered_name"),
            "module": recorded.get("module"),
            "custom": False,
            "config": recorded["config"],
            SUBCLASSED_MODEL_KEY: _class_only(recorded[SUBCLASSED_MODEL_KEY]),
        }
    cls = type(layer)
    return {
        "class_name": cls.__name__,
        "registered_name": registered_name(cls),
        "module": cls.__module__,
        "custom": is_custom(cls),
        "config": serialized_config(layer),
    }


def _class_only(record: dict | None) -> dict | None:
    """A subclassed_model record without its constructor config (model.keras.json has that)."""
    return None if record is None else {k: v for k, v in record.items() if k != "config"}


def layer_record(layer, analysis: Differentiability) -> dict:
    node = node_zero(layer)
    return {
        "name": layer.name,
        **_class_fields(layer),
        "input_shapes": [shape_list(t.shape) for t in node.input_tensors],
        "output_shapes": [shape_list(t.shape) for t in node.output_tensors],
        "python_differentiable": analysis.python_differentiable,
        "non_differentiable_ops": list(analysis.non_differentiable_ops),
        "weights": [weight_record(w) for w in layer.weights],
    }


def custom_layer_records(model, source_roots=(), graph_pack: TensorPack | None = None) -> list:
    """One record per custom class among the model's layers (nested ones too), first use first:
    its layers, its source and its user base classes' (paths relative to the first of
    `source_roots` they lie under, else absolute), the Python-only constructs of its call(),
    its translation to TypeScript (translation/), each layer's symbolic re-trace (retrace.py) and, given `graph_pack` (the bundle's graphs.bin,
    which receives their constants), each layer's TensorFlow graph (graph_fallback.py)."""
    records: dict = {}
    for layer in flatten_layers(model):
        cls = type(layer)
        if not is_custom(cls) or is_recorded_model(layer):  # a recorded graph is converted, not written in TypeScript
            continue
        record = records.setdefault(
            cls,
            {
                "class_name": cls.__name__,
                "registered_name": registered_name(cls),
                "module": cls.__module__,
                "layers": [],
                **source_records(cls, source_roots),
                "python_only": python_only_constructs(cls, source_roots),
                "retraces": [],
                **({"graphs": []} if graph_pack is not None else {}),
            },
        )
        if "translation" not in record:
            # Route 1: one TypeScript class per Python class, typed from its first instance.
            record["translation"] = translation_record(cls, layer, record.get("source", {}), user_base_classes(cls))
        if record["translation"]["status"] == "translated":
            record["translation"].setdefault("sub_layers", {})[layer.name] = keras_sub_layer_names(layer)
        record["layers"].append(layer.name)
        record["retraces"].append(retrace_layer(layer))
        if graph_pack is not None:
            record["graphs"].append(graph_layer(layer, graph_pack))
    return list(records.values())


def build_manifest(
    *,
    model,
    model_class_name: str,
    config_file: str,
    graph: LayerGraph,
    analysis: dict,
    input_names: list,
    output_names: list,
    weights: list,
    goldens: dict,
    seed: int,
    batch_size: int,
    custom_layers: list,
    custom_activations: list | None = None,
    subclassed_model: dict | None = None,
    structure: dict | None = None,
    saved_model: dict | None = None,
) -> dict:
    described = {"name": model.name, "class_name": model_class_name, "config_file": config_file}
    if structure is not None:
        described["structure"] = structure
    if subclassed_model is not None:
        described[SUBCLASSED_MODEL_KEY] = _class_only(subclassed_model)
    return {
        "format": BUNDLE_FORMAT,
        "format_version": FORMAT_VERSION,
        "producer": producer(),
        "model": described,
        "seed": seed,
        "batch_size": batch_size,
        "inputs": io_records(model.inputs, input_names),
        "outputs": io_records(model.outputs, output_names),
        "layers": [layer_record(layer, analysis[layer.name]) for layer in graph.layers],
        "custom_layers": custom_layers,
        **({"custom_activations": custom_activations} if custom_activations else {}),
        "weights": weights,
        "goldens": goldens,
        **({"saved_model": saved_model} if saved_model is not None else {}),
    }
