"""Where a custom layer class comes from, and its code: the manifest's `source` records.

What generates or checks a TypeScript twin later needs the class's own text; reading it here,
where Python and the class are at hand, spares the TypeScript side a Python parser. Paths are kept
relative to the directory the module was imported from (for `pkg.mod` in `/x/pkg/mod.py`,
`pkg/mod.py`), else to a --path directory, so that a bundle does not change between machines nor
between the CLI and the Python API.
"""
from __future__ import annotations

import inspect
import os
from pathlib import Path

# Base classes from these top-level packages are the framework's, not the user's.
FRAMEWORK_PACKAGES = frozenset({"keras", "tensorflow", "tf_keras", "builtins", "abc", "typing"})


def is_user_class(cls) -> bool:
    return (getattr(cls, "__module__", None) or "").split(".")[0] not in FRAMEWORK_PACKAGES


def user_base_classes(cls) -> list:
    """The classes `cls` inherits from that are the user's (not keras's), nearest first (MRO order)."""
    return [base for base in inspect.getmro(cls)[1:] if is_user_class(base)]


def display_path(file: str, roots, module: str | None = None) -> str:
    """`file` relative to the directory `module` was imported from, else to the first of `roots` it
    lies under (POSIX separators), else absolute."""
    path = Path(os.path.realpath(file))
    root = _import_root(path, module)
    if root is not None:
        return path.relative_to(root).as_posix()
    for root in roots:
        base = Path(os.path.realpath(root))
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            continue
    return str(path)


def _import_root(path: Path, module: str | None) -> Path | None:
    """The directory `module` was imported from, when `path` is its file: /x for pkg.mod in /x/pkg/mod.py
    or /x/pkg/mod/__init__.py."""
    if not module or module == "__main__":
        return None
    parts = tuple(module.split("."))
    stem = path.parent if path.stem == "__init__" else path.with_suffix("")
    if stem.parts[-len(parts):] != parts or len(stem.parents) < len(parts):
        return None
    return stem.parents[len(parts) - 1]


def class_source(cls, roots=()) -> dict:
    """module, qualname, and either file/line/text or `unavailable` (why the source cannot be read)."""
    record = {"module": cls.__module__, "qualname": cls.__qualname__}
    try:
        file = inspect.getsourcefile(cls)
        if file is None:
            raise TypeError(f"{cls.__qualname__} comes from a compiled module ({inspect.getfile(cls)})")
        lines, first_line = inspect.getsourcelines(cls)
    except (OSError, TypeError) as exc:
        record["unavailable"] = _why_unavailable(cls, exc)
        return record
    record["file"] = display_path(file, roots, cls.__module__)
    record["line"] = int(first_line)
    record["text"] = "".join(lines)
    return record


def _why_unavailable(cls, exc: Exception) -> str:
    module = inspect.getmodule(cls)
    if cls.__module__ == "__main__" and not getattr(module, "__file__", None):
        return "defined interactively (in __main__ with no source file): Python kept no source text"
    return f"inspect.getsource failed: {type(exc).__name__}: {exc}"


def source_records(cls, roots=()) -> dict:
    """The class's `source` and the `base_sources` of its user base classes."""
    return {
        "source": class_source(cls, roots),
        "base_sources": [class_source(base, roots) for base in user_base_classes(cls)],
    }
