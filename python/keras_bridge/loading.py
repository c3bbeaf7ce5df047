"""Getting the model: from a `.keras` file plus the modules defining its custom layers, or from a
`module:factory` function. Every user-caused failure becomes one ExportError line."""
from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

from .hdf5_scan import check_model_weights
from .config_scan import is_foreign_package, read_model_config, scan_config
from .echo import quote_for_message
from .errors import LAMBDA_ADVICE, ExportError


def _first_line(exc: BaseException) -> str:
    """The message's first line; for Keras's "Exception encountered when calling X.call()." wrapper,
    that header and the line holding the cause, which Keras puts after it."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(exc).strip().splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return type(exc).__name__
    if lines[0].startswith("Exception encountered when calling") and len(lines) > 1:
        cause = next((line for line in lines[1:] if line.startswith(("Dimensions", "Error", "Could not"))), lines[1])
        details = [line for line in lines[1:] if not line.startswith(("Arguments received", "•"))]
        return f"{lines[0]} {' '.join(details) if len(' '.join(details)) < 600 else cause}"
    return lines[0]


def prepend_paths(paths) -> None:
    """Puts each --path directory at the front of sys.path (the first given ends up first)."""
    resolved = []
    for entry in paths or []:
        directory = Path(entry)
        if not directory.is_dir():
            raise ExportError(f"--path {entry}: no such directory")
        resolved.append(str(directory.resolve()))
    for directory in reversed(resolved):
        if directory in sys.path:
            sys.path.remove(directory)
        sys.path.insert(0, directory)


def import_module(name: str, flag: str = "--module"):
    if not name or not all(part.isidentifier() for part in name.split(".")):
        raise ExportError(f"{flag} {name!r}: not a Python module name")
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name) and (len(exc.name) == len(name) or name[len(exc.name)] == "."):
            raise ExportError(
                f"{flag} {name}: module not found (No module named {exc.name!r}); "
                "add its directory with --path DIR"
            ) from None
        raise ExportError(f"{flag} {name}: importing it failed: ModuleNotFoundError: {_first_line(exc)}") from None
    except Exception as exc:
        raise ExportError(f"{flag} {name}: importing it failed: {type(exc).__name__}: {_first_line(exc)}") from None


def custom_objects(modules) -> dict:
    """Every keras.layers.Layer subclass defined in `modules`, by class name and registered name."""
    from ._tf import keras

    objects: dict = {}
    for module in modules:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, keras.layers.Layer)
                and value.__module__ == module.__name__
            ):
                objects.setdefault(value.__name__, value)
                registered = keras.saving.get_registered_name(value)
                if registered:
                    objects.setdefault(registered, value)
    return objects


def _registered_functions() -> set:
    """Names of the functions registered with @keras.saving.register_keras_serializable so far
    (by keras-bridge's --module imports, or Keras itself)."""
    from ._tf import keras

    return {name for name, value in keras.saving.get_custom_objects().items() if not isinstance(value, type)}


MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")


def load_model_file(path, module_names=()) -> "object":
    """keras.saving.load_model(path, custom_objects=<layers of the modules>, safe_mode=True, compile=False),
    after keras-bridge read the file's config itself and refused anything that could run code
    (config_scan.py): Keras sees only files whose every object is a Keras or --module class."""
    from ._tf import keras

    path = Path(path)
    if not path.exists():
        raise ExportError(f"--model {path}: no such file")
    if not path.is_file():
        raise ExportError(f"--model {path}: not a file")
    if path.suffix not in MODEL_SUFFIXES:
        raise ExportError(f"--model {path}: expected a Keras 3 .keras file (or a legacy .h5 model)")
    _, config = read_model_config(path)
    # Weights that reach outside the file (external storage or links, virtual datasets) or declare a bomb.
    check_model_weights(path)
    # The structural part first: a Lambda or a safe-mode switch is refused before any --module import.
    scan_config(config, path, user_modules=module_names, custom_names=_CUSTOM_ANYTHING, registered_functions=_CUSTOM_ANYTHING)
    modules = [import_module(name) for name in module_names]
    objects = custom_objects(modules)
    scan_config(config, path, user_modules=module_names, custom_names=objects.keys(), registered_functions=_registered_functions())
    try:
        return keras.saving.load_model(path, custom_objects=objects, safe_mode=True, compile=False)
    except Exception as exc:
        message = str(exc)
        # Keras 3's message, or its legacy .h5 loader's.
        missing = re.search(r"Could not locate class '([^']+)'", message) or re.search(r"^Unknown layer: '([^']+)'", message)
        if missing:
            module = re.search(r"Full object config: \{'module': '([^']+)'", message)
            module_name = module.group(1) if module else None
            where = f" (module {quote_for_message(module_name)})" if module_name else ""
            # Never advise importing a module the file names unless it could be the user's own.
            hint = (
                f"; pass --module {module_name} (and --path DIR if it is not importable)"
                if module_name and not is_foreign_package(module_name) and re.fullmatch(r"[A-Za-z_][\w.]*", module_name)
                else "; pass the --module that defines it (and --path DIR if it is not importable)"
            )
            given = f"; the --module list ({', '.join(module_names)}) does not define it" if module_names else ""
            raise ExportError(
                f"--model {path}: custom class {quote_for_message(missing.group(1))}{where} is unknown{given}{hint}"
            ) from None
        if "Lambda" in message and "safe_mode" in message:
            raise ExportError(f"--model {path}: contains a Lambda layer; {LAMBDA_ADVICE}") from None
        raise ExportError(f"--model {path}: cannot load it: {type(exc).__name__}: {quote_for_message(_first_line(exc), 600)[1:-1]}") from None


class _AnyName(frozenset):
    """For the scan before the --module imports: every class name counts as possibly custom (the
    second scan, after the imports, checks them against what the modules define)."""

    def __contains__(self, item) -> bool:
        return isinstance(item, str)


_CUSTOM_ANYTHING = _AnyName()


def load_factory(spec: str, seed: int):
    """Imports MODULE, seeds Keras, calls FN() and checks that it returned a built keras.Model."""
    from ._tf import keras

    module_name, sep, function_name = spec.partition(":")
    if not sep or not module_name or not function_name or not function_name.isidentifier():
        raise ExportError(f"--factory {spec!r}: expected MODULE:FUNCTION, e.g. seed_models:swish_model")
    module = import_module(module_name, flag="--factory")
    factory = getattr(module, function_name, None)
    if factory is None:
        raise ExportError(f"--factory {spec}: module {module_name!r} has no attribute {function_name!r}")
    if not callable(factory):
        raise ExportError(f"--factory {spec}: {function_name!r} is not callable")
    keras.utils.set_random_seed(seed)  # before the factory, so that its weights are deterministic
    try:
        model = factory()
    except Exception as exc:
        raise ExportError(f"--factory {spec}: the factory raised {type(exc).__name__}: {_first_line(exc)}") from None
    if not isinstance(model, keras.Model):
        raise ExportError(f"--factory {spec}: returned {type(model).__name__}, not a keras.Model")
    if not model.built:
        raise ExportError(
            f"--factory {spec}: returned an unbuilt model {model.name!r}; give its first layer an input "
            "shape or start it with keras.Input(...)"
        )
    return model
