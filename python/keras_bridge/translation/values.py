"""What the translator knows about a Python expression: its TypeScript text and its kind.

tfjs runs eagerly, so a shape is a concrete array at run time: `x.shape[-1]` and `ops.shape(x)[1]`
translate to plain numbers and Python control flow on them translates to TypeScript control flow.
Only tensor values need tfjs ops; the kind says which is which.
"""
from __future__ import annotations

from dataclasses import dataclass, field

TENSOR = "tensor"
NUMBER = "number"
BOOL = "bool"
STRING = "string"
NONE = "none"
SHAPE = "shape"  # a tensor's shape: number[] whose entries may be null (an open dimension in build())
SEQUENCE = "sequence"  # a Python tuple or list; `items` holds its elements when known
DICT = "dict"
LAYER = "layer"  # a sub-layer (Keras or custom)
WEIGHT = "weight"  # a variable the layer owns (read with .read())
SLICE = "slice"
ELLIPSIS = "ellipsis"
UNKNOWN = "unknown"

STATIC_KINDS = frozenset({NUMBER, BOOL, STRING, NONE, SHAPE, SEQUENCE, DICT, SLICE, ELLIPSIS})


@dataclass
class Value:
    code: str
    kind: str
    items: list | None = None  # elements of a SEQUENCE, when known
    element: str | None = None  # kind of a SEQUENCE's elements when all alike
    python: object = None  # the Python value of a constant or a live attribute
    meta: dict = field(default_factory=dict)

    @property
    def is_tensor(self) -> bool:
        return self.kind in (TENSOR, WEIGHT)

    @property
    def is_static(self) -> bool:
        return self.kind in STATIC_KINDS


def tensor(code: str) -> Value:
    return Value(code, TENSOR)


def number(code: str, python=None) -> Value:
    return Value(code, NUMBER, python=python)


def kind_of_python(value) -> str:
    """The kind of a live Python value (a config field, a layer attribute)."""
    if value is None:
        return NONE
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, (int, float)):
        return NUMBER
    if isinstance(value, str):
        return STRING
    if isinstance(value, (list, tuple)):
        return SEQUENCE
    if isinstance(value, dict):
        return DICT
    return UNKNOWN
