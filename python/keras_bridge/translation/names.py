"""Python names as TypeScript names: snake_case locals and methods become camelCase."""
from __future__ import annotations

import keyword
import re

# Names TypeScript reserves or our generated code already uses in every method.
_RESERVED = frozenset(
    {
        "arguments", "await", "break", "case", "catch", "class", "const", "continue", "debugger", "default",
        "delete", "do", "else", "enum", "eval", "export", "extends", "false", "finally", "for", "function",
        "if", "implements", "import", "in", "instanceof", "interface", "let", "new", "null", "package",
        "private", "protected", "public", "return", "static", "super", "switch", "this", "throw", "true",
        "try", "typeof", "var", "void", "while", "with", "yield", "tf", "z", "kops", "py", "kwargs",
        "undefined", "tensors", "shapes", "Number", "String", "Boolean", "Object", "Array", "Math",
    }
)


def camel(name: str) -> str:
    """`input_shape` → `inputShape`; leading underscores (Python's "private") dropped."""
    stripped = name.lstrip("_") or name
    parts = stripped.split("_")
    out = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:] if p)
    return out


def local_name(name: str) -> str:
    out = camel(name)
    return f"{out}_" if out in _RESERVED or keyword.iskeyword(out) else out


def ts_string(text: str) -> str:
    """A TypeScript single-quoted string literal."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r")
    return f"'{escaped}'"


def is_identifier(name: str) -> bool:
    return re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", name) is not None
