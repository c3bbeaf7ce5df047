"""The seeded golden inputs: standard normal floats, integers in a range taken from the model, or bools.

Integer inputs usually index something: the rows of an Embedding, most often. Their values are
drawn uniformly from [low, high), where `high` is the smallest `input_dim` of the Embedding layers
downstream of the input (indices past it are errors in Keras), `DEFAULT_INTEGER_HIGH` when no
Embedding is downstream, and the caller's `input_ranges` entry when there is one. Narrow integer
inputs (uint8, int8, uint16, int16: pixels, most often) default to their dtype's whole range
(`NARROW_INTEGER_RANGES`, [0, 256) for uint8), and no range may leave it. When 0 is in the
range, about `ZERO_FRACTION` of the elements (at least one) are set to 0, so that layers masking
on 0 (`Embedding(mask_zero=True)`) see masked positions.

Float inputs are standard normal. A float input that a `Masking` layer consumes directly has about
`ZERO_FRACTION` of its timesteps (at least one) set to the layer's `mask_value` in every feature,
so that the mask it computes is not all true.

A padding mask (an int or bool input whose name contains `padding_mask`, as keras-hub names it) is
drawn as one: each sample keeps its first L positions (1 or 0, True or False) and pads the rest,
L uniform in [1, length] along its last axis, and when there is room one sample of the batch is
padded, so that the mask matters.

Other bool inputs are masks, most often (a padding mask that a layer or `keras.ops.where` reads): each
element is True with probability `TRUE_PROBABILITY` (the caller's `input_ranges` entry, a float
in (0, 1), when there is one). Every sample keeps at least one True (a sequence with every
position masked out is degenerate: a masked mean divides by zero) and, when there is room, one
element of the batch is False, so that the mask matters.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

from ._tf import keras, np, tf
from .errors import ExportError
from .layer_graph import LayerGraph, flatten_layers, node_zero, shape_list

DEFAULT_INTEGER_HIGH = 10
ZERO_FRACTION = 0.25
TRUE_PROBABILITY = 0.75
PADDING_MASK_NAME = "padding_mask"
INTEGER_DTYPES = ("int32", "int64", "uint8", "int8", "uint16", "int16")
# The narrow integer dtypes' own ranges [low, high): the default for an input of that dtype (an
# image as uint8 takes 0..255), and the bounds any range for it must stay within.
NARROW_INTEGER_RANGES = {"uint8": (0, 256), "int8": (-128, 128), "uint16": (0, 65536), "int16": (-32768, 32768)}


@dataclass(frozen=True)
class IntegerRange:
    low: int
    high: int  # exclusive
    origin: str  # where the range came from, for the manifest and the user

    def record(self) -> dict:
        return {"low": self.low, "high": self.high, "origin": self.origin}


@dataclass(frozen=True)
class TrueProbability:
    value: float
    origin: str

    def record(self, array: np.ndarray) -> dict:
        true_count = int(array.sum())
        return {"true_probability": self.value, "origin": self.origin, "true_count": true_count, "false_count": int(array.size) - true_count}


@dataclass
class GoldenInput:
    name: str
    array: np.ndarray
    dtype: str  # bundle dtype
    integer_range: IntegerRange | None = None
    masked_timesteps: dict | None = None  # {"layer", "mask_value", "count"} when a Masking layer reads it
    true_probability: TrueProbability | None = None  # bool inputs
    padding_lengths: list | None = None  # padding masks: each sample's unpadded length

    @property
    def differentiable(self) -> bool:
        """Float inputs only: a gradient with respect to an index or a mask means nothing."""
        return self.dtype == "float32"

    def record(self) -> dict:
        """What the input's golden record says about how it was drawn."""
        if self.integer_range is not None:
            return {"integer_range": self.integer_range.record()}
        if self.padding_lengths is not None:
            return {"padding_mask": {"lengths": self.padding_lengths, "origin": f"input name contains {PADDING_MASK_NAME!r}"}}
        if self.true_probability is not None:
            return {"bool_values": self.true_probability.record(self.array)}
        if self.masked_timesteps is not None:
            return {"masked_timesteps": self.masked_timesteps}
        return {}


def check_input_ranges(input_ranges) -> dict:
    """`{name: high}`, `{name: (low, high)}` or `{name: p}` (a float in (0, 1), for a bool input) as
    `{name: (low, high)}` or `{name: p}`, or an ExportError."""
    if input_ranges is None:
        return {}
    if not isinstance(input_ranges, dict):
        raise ExportError(
            f"input_ranges must be a dict of input name -> high or (low, high), or a probability of True, got {input_ranges!r}"
        )
    checked = {}
    for name, value in input_ranges.items():
        if _is_probability(value):
            checked[str(name)] = float(value)
            continue
        bounds = (0, value) if _is_int(value) else tuple(value) if isinstance(value, (tuple, list)) else None
        if bounds is None or len(bounds) != 2 or not all(_is_int(b) for b in bounds) or bounds[0] >= bounds[1]:
            raise ExportError(
                f"input_ranges[{name!r}] = {value!r}: expected an integer high or a (low, high) pair with low < high "
                "(integer inputs), or a probability of True strictly between 0 and 1 (bool inputs)"
            )
        checked[str(name)] = (int(bounds[0]), int(bounds[1]))
    return checked


def _is_probability(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral) and 0 < value < 1


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


def integer_range(name: str, graph: LayerGraph, input_layer, overrides: dict, dtype: str = "int32") -> IntegerRange:
    if name in overrides:
        if not isinstance(overrides[name], tuple):
            raise ExportError(
                f"input_ranges[{name!r}] = {overrides[name]!r} is a probability of True, but input {name!r} is an "
                "integer input: give it a high or a (low, high) pair"
            )
        low, high = overrides[name]
        bounds = NARROW_INTEGER_RANGES.get(dtype)
        if bounds is not None and (low < bounds[0] or high > bounds[1]):
            raise ExportError(
                f"input_ranges[{name!r}] = ({low}, {high}) leaves the range of input {name!r}'s dtype {dtype}, "
                f"[{bounds[0]}, {bounds[1]}): give low >= {bounds[0]} and high <= {bounds[1]}"
            )
        return IntegerRange(low, high, "input_ranges")
    embedding = _embedding_range(graph, input_layer)
    if dtype in NARROW_INTEGER_RANGES:
        low, high = NARROW_INTEGER_RANGES[dtype]
        if embedding is not None and embedding.high <= high:
            return embedding
        return IntegerRange(low, high, f"default (the range of {dtype})")
    return embedding or IntegerRange(0, DEFAULT_INTEGER_HIGH, f"default (no Embedding downstream of {name!r})")


def _checked_shape(name: str, tensor, batch_size: int, shapes: dict | None) -> list:
    """The input's shape in this golden case (input_shapes.py sizes its open dimensions)."""
    shape = shape_list(tensor.shape)
    if shape and shape[0] not in (None, batch_size):
        raise ExportError(
            f"model input {name!r} has a fixed batch dimension {shape[0]} but the batch size is "
            f"{batch_size}; pass --batch-size {shape[0]}"
        )
    if shapes is not None and name in shapes:
        return list(shapes[name])
    undetermined = [axis for axis, d in enumerate(shape[1:], start=1) if d is None]
    if undetermined:  # golden_cases() sizes every open axis; a caller without a case cannot draw this input
        raise ExportError(f"model input {name!r} has shape {shape}: dimension(s) {undetermined} are open and no size was given for them")
    return [batch_size] + shape[1:] if shape else []


def is_padding_mask(name: str, dtype: str) -> bool:
    return PADDING_MASK_NAME in name.lower() and (dtype == "bool" or dtype in INTEGER_DTYPES)


def _padding_mask(rng, shape: list, dtype: str) -> tuple:
    """Ones (True) then zeros along the last axis: each sample's length uniform in [1, length]."""
    length = shape[-1] if shape else 1
    samples = int(np.prod(shape[:-1], dtype=np.int64)) if len(shape) >= 2 else 1
    lengths = rng.integers(1, length + 1, size=samples) if length else np.zeros(samples, np.int64)
    if length >= 2 and samples and (lengths == length).all():
        lengths[0] = length - 1  # one padded sample, so that the mask matters
    values = (np.arange(length)[None, :] < lengths[:, None]).reshape(shape)
    return values.astype(dtype), [int(n) for n in lengths]


def _integers(rng, shape: list, bounds: IntegerRange, dtype: str) -> np.ndarray:
    values = rng.integers(bounds.low, bounds.high, size=shape, dtype=np.int64)
    zeroed = rng.random(shape) < ZERO_FRACTION
    if bounds.low <= 0 < bounds.high and values.size:
        values[zeroed] = 0
        if not zeroed.any():
            values.flat[-1] = 0
    return values.astype(dtype)


def true_probability(name: str, overrides: dict) -> TrueProbability:
    if name not in overrides:
        return TrueProbability(TRUE_PROBABILITY, "default")
    if isinstance(overrides[name], tuple):
        raise ExportError(
            f"input_ranges[{name!r}] = {overrides[name]!r} is an integer range, but input {name!r} is bool: "
            "give the probability of True, a float strictly between 0 and 1"
        )
    return TrueProbability(overrides[name], "input_ranges")


def _booleans(rng, shape: list, probability: TrueProbability) -> np.ndarray:
    """True with the probability; at least one True per sample, and one False in the batch when there is room."""
    values = rng.random(shape) < probability.value
    if not values.size:
        return values
    # One row per sample (a rank-1 input, one flag per sample, is one row: it has no samples to fill).
    rows = values.reshape(values.shape[0], -1) if values.ndim >= 2 else values.reshape(1, -1)
    rows[~rows.any(axis=1), -1] = True
    if rows.all() and rows.shape[1] >= 2:
        rows[0, 0] = False
    return values


def golden_inputs(model, graph: LayerGraph, names: list, rng, batch_size: int, input_ranges: dict, shapes: dict | None = None) -> list:
    """One GoldenInput per model input, drawn from `rng` in input order; `shapes` (name -> full
    shape) sizes the open dimensions (input_shapes.py)."""
    unknown = sorted(set(input_ranges) - set(names))
    if unknown:
        raise ExportError(f"input_ranges names {unknown}, which are not model inputs (inputs: {names})")
    inputs = []
    for tensor, name, input_layer in zip(model.inputs, names, graph.input_layers):
        shape = _checked_shape(name, tensor, batch_size, shapes)
        dtype = tf.as_dtype(tensor.dtype).name
        if is_padding_mask(name, dtype) and name not in input_ranges:
            array, lengths = _padding_mask(rng, shape, dtype)
            inputs.append(GoldenInput(name, array, dtype, padding_lengths=lengths))
            continue
        if dtype in INTEGER_DTYPES:
            bounds = integer_range(name, graph, input_layer, input_ranges, dtype)
            inputs.append(GoldenInput(name, _integers(rng, shape, bounds, dtype), dtype, bounds))
            continue
        if dtype == "bool":
            probability = true_probability(name, input_ranges)
            inputs.append(GoldenInput(name, _booleans(rng, shape, probability), dtype, true_probability=probability))
            continue
        if dtype != "float32":
            raise ExportError(
                f"model input {name!r} has dtype {dtype}; golden inputs are standard normal float32, "
                f"integers ({', '.join(INTEGER_DTYPES)}) or bool"
            )
        if name in input_ranges:
            raise ExportError(f"input_ranges[{name!r}]: input {name!r} is float32; ranges apply to integer and bool inputs")
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
