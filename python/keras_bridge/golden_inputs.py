"""The seeded golden inputs: standard normal floats, or integers in a range taken from the model.

Integer inputs usually index something: the rows of an Embedding, most often. Their values are
drawn uniformly from [low, high), where `high` is the smallest `input_dim` of the Embedding layers
downstream of the input (indices past it are errors in Keras), `DEFAULT_INTEGER_HIGH` when no
Embedding is downstream, and the caller's `input_ranges` entry when there is one. When 0 is in the
range, about `ZERO_FRACTION` of the elements (at least one) are set to 0, so that layers masking
on 0 (`Embedding(mask_zero=True)`) see masked positions.

Float inputs are standard normal. A float input that a `Masking` layer consumes directly has about
`ZERO_FRACTION` of its timesteps (at least one) set to the layer's `mask_value` in every feature,
so that the mask it computes is not all true.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

from ._tf import keras, np, tf
from .errors import ExportError
from .layer_graph import LayerGraph, flatten_layers, node_zero, shape_list

DEFAULT_INTEGER_HIGH = 10
ZERO_FRACTION = 0.25
INTEGER_DTYPES = ("int32", "int64")


@dataclass(frozen=True)
class IntegerRange:
    low: int
    high: int  # exclusive
    origin: str  # where the range came from, for the manifest and the user

    def record(self) -> dict:
        return {"low": self.low, "high": self.high, "origin": self.origin}


@dataclass
class GoldenInput:
    name: str
    array: np.ndarray
    dtype: str  # bundle dtype
    integer_range: IntegerRange | None = None
    masked_timesteps: dict | None = None  # {"layer", "mask_value", "count"} when a Masking layer reads it

    @property
    def differentiable(self) -> bool:
        return self.integer_range is None


def check_input_ranges(input_ranges) -> dict:
    """`{name: high}` or `{name: (low, high)}` as `{name: (low, high)}`, or an ExportError."""
    if input_ranges is None:
        return {}
    if not isinstance(input_ranges, dict):
        raise ExportError(f"input_ranges must be a dict of input name -> high or (low, high), got {input_ranges!r}")
    checked = {}
    for name, value in input_ranges.items():
        bounds = (0, value) if _is_int(value) else tuple(value) if isinstance(value, (tuple, list)) else None
        if bounds is None or len(bounds) != 2 or not all(_is_int(b) for b in bounds) or bounds[0] >= bounds[1]:
            raise ExportError(
                f"input_ranges[{name!r}] = {value!r}: expected an integer high or a (low, high) pair with low < high"
            )
        checked[str(name)] = (int(bounds[0]), int(bounds[1]))
    return checked


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _descendants(graph: LayerGraph, input_layer) -> list:
    """The layers of model.layers downstream of `input_layer`, nested layers (wrappers) expanded."""
    found = []
    for layer in graph.layers:
        if id(input_layer) in graph.ancestors(layer):
            found.append(layer)
            found.extend(flatten_layers(layer))
    return found


def _embedding_range(graph: LayerGraph, input_layer) -> IntegerRange | None:
    embeddings = [layer for layer in _descendants(graph, input_layer) if isinstance(layer, keras.layers.Embedding)]
    if not embeddings:
        return None
    smallest = min(embeddings, key=lambda layer: layer.input_dim)
    return IntegerRange(0, int(smallest.input_dim), f"input_dim of Embedding {smallest.name!r}")


def _direct_consumer(graph: LayerGraph, input_layer, layer_class):
    """The first layer of class `layer_class` whose node 0 reads `input_layer`'s tensor, or None."""
    for layer in graph.layers:
        if not isinstance(layer, layer_class):
            continue
        if any(t._keras_history.operation is input_layer for t in node_zero(layer).input_tensors):
            return layer
    return None


def integer_range(name: str, graph: LayerGraph, input_layer, overrides: dict) -> IntegerRange:
    if name in overrides:
        low, high = overrides[name]
        return IntegerRange(low, high, "input_ranges")
    return _embedding_range(graph, input_layer) or IntegerRange(
        0, DEFAULT_INTEGER_HIGH, f"default (no Embedding downstream of {name!r})"
    )


def _checked_shape(name: str, tensor, batch_size: int) -> list:
    shape = shape_list(tensor.shape)
    if shape and shape[0] not in (None, batch_size):
        raise ExportError(
            f"model input {name!r} has a fixed batch dimension {shape[0]} but the batch size is "
            f"{batch_size}; pass --batch-size {shape[0]}"
        )
    undetermined = [axis for axis, d in enumerate(shape[1:], start=1) if d is None]
    if undetermined:
        raise ExportError(
            f"model input {name!r} has shape {shape}: dimension(s) {undetermined} are undetermined; "
            "only the batch dimension may be None (give the model a fully defined input shape)"
        )
    return [batch_size] + shape[1:] if shape else []


def _integers(rng, shape: list, bounds: IntegerRange, dtype: str) -> np.ndarray:
    values = rng.integers(bounds.low, bounds.high, size=shape, dtype=np.int64)
    zeroed = rng.random(shape) < ZERO_FRACTION
    if bounds.low <= 0 < bounds.high and values.size:
        values[zeroed] = 0
        if not zeroed.any():
            values.flat[-1] = 0
    return values.astype(dtype)


def golden_inputs(model, graph: LayerGraph, names: list, rng, batch_size: int, input_ranges: dict) -> list:
    """One GoldenInput per model input, drawn from `rng` in input order."""
    unknown = sorted(set(input_ranges) - set(names))
    if unknown:
        raise ExportError(f"input_ranges names {unknown}, which are not model inputs (inputs: {names})")
    inputs = []
    for tensor, name, input_layer in zip(model.inputs, names, graph.input_layers):
        shape = _checked_shape(name, tensor, batch_size)
        dtype = tf.as_dtype(tensor.dtype).name
        if dtype in INTEGER_DTYPES:
            bounds = integer_range(name, graph, input_layer, input_ranges)
            inputs.append(GoldenInput(name, _integers(rng, shape, bounds, dtype), dtype, bounds))
            continue
        if dtype != "float32":
            raise ExportError(
                f"model input {name!r} has dtype {dtype}; golden inputs are standard normal float32 "
                f"or integers ({', '.join(INTEGER_DTYPES)})"
            )
        if name in input_ranges:
            raise ExportError(f"input_ranges[{name!r}]: input {name!r} is float32; ranges apply to integer inputs")
        embedding = _direct_consumer(graph, input_layer, keras.layers.Embedding)
        if embedding is not None:
            raise ExportError(
                f"model input {name!r} is float32 but feeds Embedding {embedding.name!r}, which needs indices; "
                f"declare it keras.Input(..., dtype='int32')"
            )
        array = rng.standard_normal(shape, dtype=np.float32)
        masking = _direct_consumer(graph, input_layer, keras.layers.Masking)
        masked = _mask_timesteps(rng, array, masking) if masking is not None else None
        inputs.append(GoldenInput(name, array, "float32", masked_timesteps=masked))
    return inputs


def _mask_timesteps(rng, array: np.ndarray, masking) -> dict | None:
    """Sets some timesteps of `array` (all of their last-axis features) to the mask value."""
    if array.ndim < 2:
        return None
    chosen = rng.random(array.shape[:-1]) < ZERO_FRACTION
    if not chosen.any():
        chosen.flat[-1] = True
    array[chosen] = np.float32(masking.mask_value)
    return {"layer": masking.name, "mask_value": float(masking.mask_value), "count": int(chosen.sum())}
