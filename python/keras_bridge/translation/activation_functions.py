"""Route 1 for a custom activation function (`Dense(3, activation=scaled_tanh)` with scaled_tanh
registered with @keras.saving.register_keras_serializable): its body translated to a TypeScript
function registered with registerActivation under the same Keras name."""
from __future__ import annotations

import ast
import inspect
import types

from .._tf import keras
from . import values as v
from .class_context import ClassContext
from .gaps import TranslationGap, gap_record
from .names import local_name, ts_string
from .statements import FunctionTranslator, HelperMethods

IMPORTS = [
    "import * as tf from '@tensorflow/tfjs';",
    "import { kops, py, registerActivation } from 'keras-bridge/runtime';",
]


def custom_activations(model) -> list:
    """The registered custom activation functions the model's layers name, each once."""
    found: dict = {}
    for layer in _all_layers(model):
        fn = getattr(layer, "activation", None)
        if not isinstance(fn, types.FunctionType) or (fn.__module__ or "").startswith("keras."):
            continue
        name = keras.saving.get_registered_name(fn)
        found.setdefault(name, fn)
    return [activation_record(name, fn) for name, fn in found.items()]


def _all_layers(model):
    for layer in getattr(model, "layers", []):
        yield layer
        yield from _all_layers(layer)


def activation_record(name: str, fn) -> dict:
    """{"name", "function", "status": "translated", "typescript"} or {"name", "status": "gaps", "gaps"}."""
    try:
        lines, first_line = inspect.getsourcelines(fn)
        file = inspect.getsourcefile(fn)
    except (OSError, TypeError) as exc:
        return {"name": name, "status": "gaps", "gaps": [{"why": f"the source of {fn.__name__} cannot be read ({exc})"}]}
    context = ClassContext.for_function(fn)
    helpers = HelperMethods(context)
    caller = FunctionTranslator(context, fn.__name__, helpers)
    call = ast.parse(f"{fn.__name__}(x)").body[0].value
    ast.copy_location(call, ast.parse("0").body[0])
    try:
        helpers.call_function(call, fn, [v.tensor("x")], caller)
    except TranslationGap as gap:
        caller.gaps.append(gap)
    where = f"{file.rsplit('/', 1)[-1]}:{first_line}" if file else fn.__qualname__
    if caller.gaps:
        return {"name": name, "status": "gaps", "gaps": [{"file": file.rsplit('/', 1)[-1] if file else None, "line": first_line, "why": g.why} for g in caller.gaps]}
    record = helpers.translated[fn.__name__]
    function = local_name(fn.__name__)
    text = "\n".join(
        [
            f"/** The activation {name}, translated by keras-bridge from its Python source ({where}). */",
            *IMPORTS,
            "",
            f"export function {function}({', '.join(record['params'])}): tf.Tensor {{",
            *[line[2:] for line in record["lines"]],
            "}",
            "",
            f"registerActivation({ts_string(name)}, {function}, {{ origin: 'translated' }});",
            "",
        ]
    )
    return {"name": name, "function": function, "status": "translated", "typescript": text}
