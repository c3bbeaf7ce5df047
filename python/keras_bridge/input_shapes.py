"""Golden cases: the concrete input shapes the goldens are recorded at, for models with open dimensions.

A model input may leave dimensions other than the batch open (`keras.Input((None,))` for token ids,
`(None, None, 3)` for a fully convolutional net). The converted model keeps them open; the goldens
need concrete sizes. Each *case* gives every input one concrete shape:

- `export(..., input_shapes={"tokens": (16,)})` / `--input-shape tokens=16` gives an input's
  dimensions after the batch (the batch is `batch_size`); fixed dimensions must be given as the model
  has them. Several shapes for one input (`{"tokens": [(16,), (7,)]}`, the flag repeated) make
  several cases: case k takes each input's k-th shape (an input given fewer keeps its last one).
- Open axes at the same position share their size within a case, unless an input is given its own
  shape: token ids `(None, None)` and their padding mask `(None, None)` take one sequence length.
- An open axis nobody sized takes the default size: the smallest n >= DEFAULT_OPEN_SIZE that the
  model accepts with every such axis n, found by tracing the model symbolically at growing n
  (`compute_output_spec`: a convolution or pooling with too small an input, a reshape that cannot
  hold, fails there): every n up to 64, then steps of half the last power of two up to
  MAX_OPEN_SIZE. A sequence gets 8; an image net that halves its input five times with valid
  padding gets the first size that survives it.

A model with no open dimension has one case, its own shape, and nothing changes for it.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

from ._tf import keras
from .errors import ExportError
from .layer_graph import shape_list

DEFAULT_OPEN_SIZE = 8
MAX_OPEN_SIZE = 1024


@dataclass(frozen=True)
class GoldenCase:
    index: int
    shapes: dict  # input name -> full shape, batch included
    open_axes: dict  # input name -> the axes the model leaves open
    origins: dict  # input name -> "input_shapes" or the default's origin

    @property
    def name(self) -> str:
        """`tokens=16 mask=16`: the sized open dimensions of each input with any (its label in reports)."""
        parts = [f"{name}={','.join(str(d) for d in shape[1:])}" for name, shape in self.shapes.items() if self.open_axes[name]]
        return " ".join(parts) or "fixed shape"

    def record(self) -> dict:
        return {
            "name": self.name,
            "input_shapes": {name: list(shape) for name, shape in self.shapes.items()},
            "origins": dict(self.origins),
        }


def check_input_shapes(input_shapes) -> dict:
    """`{name: shape or [shape, ...]}` (shape: the dimensions after the batch) as `{name: [tuple, ...]}`, or an ExportError."""
    if input_shapes is None:
        return {}
    if not isinstance(input_shapes, dict):
        raise ExportError(f"input_shapes must be a dict of input name -> shape (the dimensions after the batch), got {input_shapes!r}")
    checked = {}
    for name, value in input_shapes.items():
        shapes = value if isinstance(value, list) and value and all(isinstance(v, (tuple, list)) for v in value) else [value]
        parsed = []
        for shape in shapes:
            dims = (shape,) if _is_size(shape) else tuple(shape) if isinstance(shape, (tuple, list)) else None
            if not dims or not all(_is_size(d) for d in dims):
                raise ExportError(
                    f"input_shapes[{name!r}] = {value!r}: expected the input's dimensions after the batch as positive "
                    "integers (e.g. (16,) or (32, 32, 3)), or a list of such shapes"
                )
            parsed.append(tuple(int(d) for d in dims))
        checked[str(name)] = parsed
    return checked


def _is_size(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0


def open_axes(tensor) -> list:
    return [axis for axis, d in enumerate(shape_list(tensor.shape)[1:], start=1) if d is None]


def golden_cases(model, names: list, batch_size: int, input_shapes: dict) -> list:
    """One GoldenCase per requested size (one when none is requested), every open axis sized."""
    unknown = sorted(set(input_shapes) - set(names))
    if unknown:
        raise ExportError(f"input_shapes names {unknown}, which are not model inputs (inputs: {names})")
    declared = {name: shape_list(t.shape) for name, t in zip(names, model.inputs)}
    for name, shapes in input_shapes.items():
        for shape in shapes:
            _check_given(name, declared[name], shape)
    count = max((len(shapes) for shapes in input_shapes.values()), default=1)
    cases = []
    for index in range(count):
        given = {name: shapes[min(index, len(shapes) - 1)] for name, shapes in input_shapes.items()}
        cases.append(_case(model, names, declared, batch_size, given, index))
    return cases


def _check_given(name: str, declared: list, shape: tuple) -> None:
    if len(shape) != len(declared) - 1:
        raise ExportError(
            f"input_shapes[{name!r}] = {list(shape)} has {len(shape)} dimension(s), but model input {name!r} has shape "
            f"{declared}: give its {len(declared) - 1} dimension(s) after the batch"
        )
    fixed = [(axis, d, s) for axis, (d, s) in enumerate(zip(declared[1:], shape), start=1) if d is not None and d != s]
    if fixed:
        axis, d, s = fixed[0]
        raise ExportError(
            f"input_shapes[{name!r}] = {list(shape)}: dimension {axis} of model input {name!r} is fixed at {d} "
            f"(shape {declared}), not {s}; only its open (None) dimensions may take other sizes"
        )


def _case(model, names: list, declared: dict, batch_size: int, given: dict, index: int) -> GoldenCase:
    axes = {name: [a for a, d in enumerate(shape[1:], start=1) if d is None] for name, shape in declared.items()}
    # Sizes the user gave for an open axis: shared with the same axis of the inputs not given.
    shared: dict = {}
    for name, shape in given.items():
        for axis in axes[name]:
            shared.setdefault(axis, shape[axis - 1])

    def shapes_with(n: int) -> dict:
        full = {}
        for name in names:
            if name in given:
                full[name] = [batch_size, *given[name]]
                continue
            full[name] = [batch_size] + [d if d is not None else shared.get(axis, n) for axis, d in enumerate(declared[name][1:], start=1)]
        return full

    needs_default = any(axis not in shared for name in names if name not in given for axis in axes[name])
    if not needs_default:
        origins = {name: "input_shapes" if name in given else "fixed" if not axes[name] else "input_shapes (shared open axes)" for name in names}
        return GoldenCase(index, shapes_with(DEFAULT_OPEN_SIZE), axes, origins)
    n, failure = smallest_accepted_size(model, names, shapes_with)
    if n is None:
        raise ExportError(
            f"model {model.name!r} accepted no size from {DEFAULT_OPEN_SIZE} to {MAX_OPEN_SIZE} for its open input "
            f"dimensions ({failure}); give its inputs' shapes with --input-shape NAME=D1,D2,..."
        )
    default = f"default (the smallest size >= {DEFAULT_OPEN_SIZE} the model accepts: {n})"
    origins = {name: "input_shapes" if name in given else "fixed" if not axes[name] else default for name in names}
    return GoldenCase(index, shapes_with(n), axes, origins)


def candidate_sizes() -> list:
    """DEFAULT_OPEN_SIZE..64 one by one, then 96, 128, 192, 256, ... up to MAX_OPEN_SIZE."""
    sizes = list(range(DEFAULT_OPEN_SIZE, 65))
    power = 64
    while power < MAX_OPEN_SIZE:
        sizes += [power + power // 2, power * 2]
        power *= 2
    return [n for n in sizes if n <= MAX_OPEN_SIZE]


def smallest_accepted_size(model, names: list, shapes_with) -> tuple:
    """(n, None) for the first n >= DEFAULT_OPEN_SIZE at which the model traces symbolically, or (None, the last failure)."""
    failure = None
    for n in candidate_sizes():
        shapes = shapes_with(n)
        specs = [keras.KerasTensor(shapes[name], dtype=t.dtype) for name, t in zip(names, model.inputs)]
        try:
            model.compute_output_spec(specs[0] if len(specs) == 1 else specs)
            return n, None
        except Exception as exc:  # noqa: BLE001 - any failure to trace means "not this size"
            failure = f"at {n}: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    return None, failure
