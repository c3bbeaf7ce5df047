"""Route 1 of issue 11: a custom layer's Python source translated to a TypeScript tfjs layer.

The exporter calls `translation_record` per custom class; the record (docs/bundle-format.md,
"Translations") holds the TypeScript module, or the gaps (file, line, Python code, why) that keep
the class from being translated. `convert` writes and compiles the modules; a registered
hand-written class always wins.
"""
from __future__ import annotations

import inspect

from .class_writer import CallStructure, keras_sub_layer_names, translate_class, zod_for
from .gaps import TranslationGap, gap_record
from .module_writer import module_text

from .activation_functions import custom_activations

__all__ = ["translation_record", "call_structure", "keras_sub_layer_names", "custom_activations"]


def call_structure(layer) -> CallStructure:
    """How the model calls the layer first: from its inbound node, else from call()'s signature."""
    nodes = getattr(layer, "_inbound_nodes", None) or []
    if nodes:
        args = nodes[0].arguments.args
        return CallStructure(len(args), len(args) == 1 and isinstance(args[0], (list, tuple)))
    params = [
        p for p in inspect.signature(layer.call).parameters.values()
        if p.name not in ("training", "mask") and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    return CallStructure(max(len(params), 1), False)


def translation_record(cls, layer, source: dict, user_bases: list) -> dict:
    """{"status": "translated", "typescript", "dependencies"} or {"status": "gaps", "gaps", "typescript"?}."""
    if "text" not in source:
        return {"status": "gaps", "gaps": [{"why": f"the class's source is not available ({source.get('unavailable', 'unknown reason')})"}]}
    file, first_line = source.get("file"), source.get("line", 1)
    if user_bases:
        names = ", ".join(b.__qualname__ for b in user_bases)
        return {"status": "gaps", "gaps": [{"file": file, "line": first_line, "why": f"inherits from the user class(es) {names}; inherited methods are not translated"}]}
    try:
        config = layer.get_config()
    except Exception as exc:  # noqa: BLE001 - the user's get_config
        return {"status": "gaps", "gaps": [{"file": file, "line": first_line, "why": f"get_config() failed: {type(exc).__name__}: {exc}"}]}
    try:
        result = translate_class(cls, layer, source, call_structure(layer), config)
    except TranslationGap as gap:
        return {"status": "gaps", "gaps": [gap_record(gap, source["text"].splitlines(), first_line, file)]}
    except SyntaxError as exc:
        return {"status": "gaps", "gaps": [{"file": file, "why": f"the source does not parse on its own: {exc}"}]}
    result["schema"] = {key: zod_for(value) for key, value in result["config"].items()}
    dependencies = [d.__name__ for d in result["context"].custom_dependencies]
    origin = f"{file}:{first_line}" if file else cls.__qualname__
    text = module_text(cls.__name__, origin, result, dependencies)
    lines = result["context"].source_lines
    gaps = [gap_record(g, lines, first_line, file) for g in result["gaps"]]
    if gaps:
        # Never converted from; `keras-bridge scaffold` writes it for a person to finish.
        return {"status": "gaps", "gaps": gaps, "draft": text}
    notes = [{**gap_record(TranslationGap(node, text), lines, first_line, file)} for node, text in result["context"].notes]
    return {"status": "translated", "typescript": text, "dependencies": dependencies, **({"notes": notes} if notes else {})}
