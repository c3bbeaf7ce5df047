"""Reading a model file's config without Keras, and refusing everything in it that could make Keras
run code (docs/hostile-input.md, "The Python side").

Keras's own history is the checklist: marshalled bytecode in Lambda layers (CVE-2024-3660), configs
naming arbitrary importable functions (CVE-2025-1550), configs that switch safe mode off while
loading (CVE-2025-8747, CVE-2025-9906) and legacy .h5 files, whose loader ignored safe_mode
(CVE-2025-9905). keras-bridge reads config.json (or the .h5 `model_config` attribute) itself and
checks every object in it before Keras sees the file; Keras then loads it with safe_mode=True.
Nothing here imports a module a file names, calls anything, or unmarshals anything.
"""
from __future__ import annotations

import base64
import builtins
import binascii
import json
import re
import sys
import zipfile
from pathlib import Path

from .echo import quote_for_message
from .errors import LAMBDA_ADVICE, ExportError

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
ZIP_END_OF_CENTRAL_DIRECTORY = b"PK\x05\x06"
MAX_CONFIG_BYTES = 16 * 1024 * 1024  # Keras's configs of ~1000-layer models are a few MB
MAX_DEPTH = 200  # nesting of the config's JSON; Keras's deepest real configs are a few dozen
MAX_NAME_CHARS = 1024  # a `name` is echoed into many manifest records (and file names of tfjs)
MAX_STRING_CHARS = 64 * 1024
MAX_KEY_CHARS = 1024

# Where Keras 3 and KerasHub serialize model components from. A module outside these (and the
# user's --module list) is refused: keras.saving, keras.config, keras.utils, keras.backend hold
# the loaders, safe-mode switches, downloads and bytecode loaders, nothing a model is made of.
_KERAS_NAMESPACES = (
    "layers", "models", "initializers", "regularizers", "constraints", "activations", "optimizers",
    "losses", "metrics", "dtype_policies", "mixed_precision", "ops", "random", "quantizers",
)
ALLOWED_MODULE_PREFIXES = (
    ("keras",)
    + tuple(f"keras.{name}" for name in _KERAS_NAMESPACES)
    + tuple(f"keras.src.{name}" for name in _KERAS_NAMESPACES)
    + tuple(f"keras_hub.{name}" for name in ("models", "layers", "tokenizers", "samplers"))
    + tuple(f"keras_hub.src.{name}" for name in ("models", "layers", "tokenizers", "samplers"))
)

# Names that no model component has: the APIs that turn safe mode off, load or save files, or
# turn bytecode into functions (Keras's NON_MODELING_APIS and serialization internals).
DENIED_NAMES = frozenset(
    {
        "enable_unsafe_deserialization", "SafeModeScope", "in_safe_mode", "safe_mode",
        "load_model", "save_model", "model_from_json", "load_weights", "save_weights",
        "deserialize_keras_object", "serialize_keras_object", "register_keras_serializable",
        "func_load", "func_dump", "get_file", "clear_session", "load_img", "save_img",
        "image_dataset_from_directory", "text_dataset_from_directory", "audio_dataset_from_directory",
    }
)
_DENIED_FRAGMENTS = ("unsafe", "safe_mode", "safemode")

# Third-party packages that hold no Keras layers but can run or fetch things; like the standard
# library, a file naming them is hostile, not a model with a missing --module.
DENIED_PACKAGES = frozenset(
    {"numpy", "tensorflow", "tf_keras", "torch", "jax", "h5py", "dill", "cloudpickle", "joblib",
     "pandas", "requests", "urllib3", "setuptools", "pip", "pkg_resources", "IPython", "_pytest", "pytest"}
)

# Keras's special objects (serialization_lib): data, not classes; __typespec__ is resolved by module.
_DATA_OBJECTS = frozenset({"__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__ellipsis__", "__slice__"})

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_REGISTERED = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)>([A-Za-z_][A-Za-z0-9_]*)\Z")
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]{40,}\Z")


class HostileConfigError(ExportError):
    """A model file whose config holds something keras-bridge refuses to hand to Keras."""

    def __init__(self, file, layer: str | None, field: str, reason: str):
        self.file, self.layer, self.field, self.reason = str(file), layer, field, reason
        where = f"layer {quote_for_message(layer)}, " if layer is not None else ""
        super().__init__(f"--model {file}: {where}field {field}: {reason}")


def _top_package(module: str) -> str:
    return module.split(".", 1)[0]


def is_foreign_package(module: str) -> bool:
    """The standard library or a known non-layer package: never a plausible user layer module."""
    top = _top_package(module)
    return top in sys.stdlib_module_names or top in DENIED_PACKAGES or top == "__main__"


def is_allowed_keras_module(module: str) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in ALLOWED_MODULE_PREFIXES)


# --- reading the file ----------------------------------------------------------------------------


def hdf5_signature_offsets(path: Path, size: int) -> list:
    """Offsets (0, 512, 1024, 2048, ...) where the HDF5 signature is: HDF5 looks there for its superblock."""
    found = []
    with open(path, "rb") as handle:
        offset = 0
        while offset + len(HDF5_SIGNATURE) <= size:
            handle.seek(offset)
            if handle.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE:
                found.append(offset)
            offset = 512 if offset == 0 else offset * 2
    return found


def has_zip_end_record(path: Path, size: int) -> bool:
    """A zip end-of-central-directory record in the last 65,557 bytes (22 + the longest comment)."""
    tail_size = min(size, 22 + 0xFFFF)
    with open(path, "rb") as handle:
        handle.seek(size - tail_size)
        return ZIP_END_OF_CENTRAL_DIRECTORY in handle.read(tail_size)


def file_format(path: Path) -> str | None:
    """'zip', 'hdf5' or None; a file that is both is refused (each reader would see another model)."""
    size = path.stat().st_size
    hdf5 = bool(hdf5_signature_offsets(path, size))
    zipped = has_zip_end_record(path, size)
    if hdf5 and zipped:
        raise ExportError(
            f"--model {path}: the file is both an HDF5 file and a zip archive (a polyglot); "
            "Keras and keras-bridge could read different models from it, so it is refused"
        )
    return "hdf5" if hdf5 else "zip" if zipped else None


def _parse_json(text, path: Path, what: str):
    try:
        return json.loads(text)
    except RecursionError:
        raise ExportError(f"--model {path}: {what} is nested too deeply to read (more than {MAX_DEPTH} levels)") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ExportError(f"--model {path}: {what} is not valid JSON ({quote_for_message(str(exc))})") from None


def read_keras_config(path: Path):
    """config.json of a .keras archive, size-bounded; an archive with two entries of one name is refused."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [info.filename for info in archive.infolist()]
            if len(names) != len(set(names)):
                duplicate = next(name for name in names if names.count(name) > 1)
                raise ExportError(
                    f"--model {path}: the archive holds entry {quote_for_message(duplicate)} twice; "
                    "which one a reader takes differs, so the file is refused"
                )
            if "config.json" not in names:
                raise ExportError(f"--model {path}: not a .keras file (the archive has no config.json)")
            info = archive.getinfo("config.json")
            if info.file_size > MAX_CONFIG_BYTES:
                raise ExportError(
                    f"--model {path}: config.json is {info.file_size} bytes; keras-bridge reads at most {MAX_CONFIG_BYTES}"
                )
            with archive.open(info) as entry:
                data = entry.read(MAX_CONFIG_BYTES + 1)  # the recorded size may lie
    except ExportError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise ExportError(f"--model {path}: not a readable .keras archive ({quote_for_message(str(exc))})") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ExportError(f"--model {path}: config.json is larger than {MAX_CONFIG_BYTES} bytes")
    return _parse_json(data, path, "config.json")


def read_h5_config(path: Path):
    """The `model_config` attribute of a legacy .h5 model, size-bounded."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            if "model_config" not in handle.attrs:
                raise ExportError(
                    f"--model {path}: the .h5 file has no model_config attribute (a weights-only file?); "
                    "save the whole model with model.save('model.keras')"
                )
            attribute = handle.attrs.get_id("model_config")
            if attribute.get_storage_size() > MAX_CONFIG_BYTES:
                raise ExportError(f"--model {path}: model_config is larger than {MAX_CONFIG_BYTES} bytes")
            value = handle.attrs["model_config"]
    except ExportError:
        raise
    except Exception as exc:  # h5py raises OSError, KeyError, TypeError, ValueError for damaged files
        raise ExportError(f"--model {path}: not a readable HDF5 file ({type(exc).__name__}: {quote_for_message(str(exc))})") from None
    if hasattr(value, "tolist") and not isinstance(value, (bytes, str)):
        value = value.tolist()
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        raise ExportError(f"--model {path}: model_config is a {type(value).__name__}, not a JSON string")
    if len(value) > MAX_CONFIG_BYTES:
        raise ExportError(f"--model {path}: model_config is larger than {MAX_CONFIG_BYTES} bytes")
    return _parse_json(value, path, "model_config")


# --- scanning it ---------------------------------------------------------------------------------


def _looks_like_bytecode(text: str) -> bool:
    """Base64 of a marshalled code object (Keras's func_dump): type byte 'c' (0x63, or 0xe3 with
    FLAG_REF) followed by small argument counts. Decodes 12 bytes; unmarshals nothing."""
    if not _BASE64.match(text[:4096]):
        return False
    head = "".join(text[:64].split())[:16]
    try:
        raw = base64.b64decode(head, validate=True)
    except (binascii.Error, ValueError):
        return False
    if len(raw) < 12 or raw[0] not in (0x63, 0xE3):
        return False
    counts = [int.from_bytes(raw[i : i + 4], "little") for i in (1, 5, 9)]
    return all(count < 256 for count in counts)


class _Scan:
    def __init__(self, file, user_modules, custom_names, registered_functions):
        self.file = file
        self.user_modules = frozenset(user_modules)
        # Kept as given when already sets: loading.py passes a set that contains every name.
        self.custom_names = custom_names if isinstance(custom_names, frozenset) else frozenset(custom_names)
        self.registered_functions = registered_functions if isinstance(registered_functions, frozenset) else frozenset(registered_functions)

    def refuse(self, layer, field, reason):
        raise HostileConfigError(self.file, layer, field or "(the top level)", reason)

    def walk(self, node, field: str, layer, depth: int) -> None:
        if depth > MAX_DEPTH:
            self.refuse(layer, field, f"the config is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, str):
            self.check_string(node, field, layer)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                self.walk(value, f"{field}[{index}]", layer, depth + 1)
        elif isinstance(node, dict):
            for key in node:
                if len(key) > MAX_KEY_CHARS:
                    self.refuse(layer, field, f"a key of {len(key)} characters (at most {MAX_KEY_CHARS})")
            if "class_name" in node:
                layer = self.check_object(node, field, layer)
            for key, value in node.items():
                self.walk(value, f"{field}.{key}" if field else key, layer, depth + 1)

    def check_string(self, text: str, field: str, layer) -> None:
        limit = MAX_NAME_CHARS if field.endswith(".name") or field == "name" else MAX_STRING_CHARS
        if len(text) > limit:
            self.refuse(layer, field, f"a string of {len(text)} characters (keras-bridge accepts at most {limit} here)")
        if len(text) >= 40 and _looks_like_bytecode(text):
            self.refuse(layer, field, "holds marshalled Python bytecode, which keras-bridge never loads nor runs")

    def check_object(self, node: dict, field: str, layer):
        """One {class_name, module, registered_name, config} object; returns the layer name for its fields."""
        class_name, module = node.get("class_name"), node.get("module")
        registered, inner = node.get("registered_name"), node.get("config")
        at = f"{field}.class_name" if field else "class_name"
        if not isinstance(class_name, str):
            self.refuse(layer, at, f"class_name is {quote_for_message(class_name)}, not a string")
        if module is not None and not isinstance(module, str):
            self.refuse(layer, f"{field}.module" if field else "module", f"module is {quote_for_message(module)}, not a string")
        if registered is not None and not isinstance(registered, str):
            self.refuse(layer, f"{field}.registered_name" if field else "registered_name", "registered_name is not a string")
        if isinstance(inner, dict) and isinstance(inner.get("name"), str):
            layer = inner["name"]  # echoed through quote_for_message: bounded there
        for text in (class_name, registered, module, inner if class_name == "function" else None, node.get("spec_name")):
            if isinstance(text, str) and self.denied(text):
                self.refuse(
                    layer, field or "(the top level)",
                    f"refers to {quote_for_message(text)}, a Keras loading or safe-mode API (it could switch "
                    "safe mode off while loading); no model is made of it",
                )
        if class_name == "__lambda__":
            self.refuse(layer, field, f"a serialized Python lambda (__lambda__); {LAMBDA_ADVICE}")
        if class_name == "Lambda" or (registered or "").split(">")[-1] == "Lambda":
            self.refuse(layer, at, f"a Lambda layer; {LAMBDA_ADVICE}")
        if class_name in _DATA_OBJECTS and module is None:
            return layer
        if class_name == "__typespec__":
            if not (isinstance(module, str) and _top_package(module) in ("tensorflow", "keras")):
                self.refuse(layer, f"{field}.module", f"a type spec from module {quote_for_message(module)}, not TensorFlow's")
            return layer
        if class_name == "function":
            self.check_function(node, field, layer)
        else:
            self.check_class(class_name, module, registered, field, layer)
        return layer

    @staticmethod
    def denied(text: str) -> bool:
        lowered = text.lower()
        return any(part in DENIED_NAMES for part in re.split(r"[.>]", text)) or any(f in lowered for f in _DENIED_FRAGMENTS)

    def check_class(self, class_name, module, registered, field, layer) -> None:
        where = f"{field}.module" if field else "module"
        if not _IDENTIFIER.match(class_name):
            self.refuse(layer, f"{field}.class_name" if field else "class_name", f"class_name {quote_for_message(class_name)} is not a Python class name")
        custom = class_name in self.custom_names or registered in self.custom_names
        if module is not None:
            if is_foreign_package(module):
                self.refuse(
                    layer, where,
                    f"names {quote_for_message(class_name)} from module {quote_for_message(module)}, which defines no "
                    "Keras layers (standard library or a non-layer package); keras-bridge never imports modules "
                    "a model file names",
                )
            if not (is_allowed_keras_module(module) or module in self.user_modules or custom):
                if _top_package(module) in ("keras", "keras_hub"):
                    self.refuse(
                        layer, where,
                        f"names {quote_for_message(class_name)} from {quote_for_message(module)}, which is not a "
                        "Keras namespace that model components come from",
                    )
                given = f"; the --module list ({', '.join(sorted(self.user_modules))}) does not define it" if self.user_modules else ""
                # Advice to import it only for a plausible user module (foreign ones were refused above).
                self.refuse(
                    layer, where,
                    f"custom class {quote_for_message(class_name)} (module {quote_for_message(module)}) is unknown{given}; "
                    f"pass --module {module} (and --path DIR if it is not importable)",
                )
        if registered and registered != class_name and registered not in self.custom_names:
            match = _REGISTERED.match(registered)
            if not match or match.group(2) != class_name or is_foreign_package(match.group(1)):
                self.refuse(
                    layer, f"{field}.registered_name" if field else "registered_name",
                    f"registered_name {quote_for_message(registered)} does not name class {quote_for_message(class_name)} "
                    "in a layer package",
                )

    def check_function(self, node: dict, field: str, layer) -> None:
        module, name = node.get("module"), node.get("config")
        at = f"{field}.config" if field else "config"
        if not isinstance(name, str):
            self.refuse(layer, at, "a function object whose config is not its name")
        registered = _REGISTERED.match(name)
        foreign_module = isinstance(module, str) and module != "builtins" and is_foreign_package(module)
        if foreign_module or (registered and is_foreign_package(registered.group(1))) or (module == "builtins" and name in vars(builtins)):
            self.refuse(
                layer, at,
                f"a reference to function {quote_for_message(name)} of module {quote_for_message(module)}, which is "
                "not a Keras or layer function (standard library or a non-layer package); keras-bridge never "
                "imports or calls functions a model file names",
            )
        if isinstance(module, str) and is_allowed_keras_module(module):
            if _IDENTIFIER.match(name) or (registered and _top_package(registered.group(1)) in ("keras", "keras_hub")):
                return
        elif module == "builtins" or module is None or module in self.user_modules:
            # Keras looks a "builtins" function up among its activations, losses, metrics, ...
            # by name, or among the functions registered with @register_keras_serializable.
            if name in self.registered_functions or (_IDENTIFIER.match(name) and _keras_builtin_function(name)):
                return
        self.refuse(
            layer, at,
            f"a function reference {quote_for_message(name)} (module {quote_for_message(module)}) that is neither a "
            "Keras function nor one registered by the --module list; keras-bridge never imports or calls "
            "functions a model file names",
        )


def _keras_builtin_function(name: str) -> bool:
    """Is `name` a public function of Keras's built-in function namespaces (by dictionary lookup)?"""
    from ._tf import keras

    for namespace in (keras.activations, keras.losses, keras.metrics, keras.initializers, keras.regularizers, keras.constraints):
        value = vars(namespace).get(name)
        if value is not None and callable(value) and not isinstance(value, type):
            return True
    return False


def scan_config(config, file, *, user_modules=(), custom_names=(), registered_functions=()) -> None:
    """Raises HostileConfigError (naming file, innermost layer and field path) for the first object
    in `config` that could make Keras run code, import a module the file names, or switch safe mode
    off; and for strings and nesting beyond the bounds above."""
    _Scan(file, user_modules, custom_names, registered_functions).walk(config, "", None, 0)


def read_model_config(path: Path):
    """(format, config) of a .keras or legacy .h5 model file, without Keras; polyglots refused."""
    kind = file_format(path)
    if path.suffix == ".keras":
        if kind != "zip":
            raise ExportError(f"--model {path}: not a valid .keras file (not a zip archive; corrupt or truncated?)")
        return kind, read_keras_config(path)
    if kind != "hdf5":
        raise ExportError(f"--model {path}: not a valid .h5 file (no HDF5 signature; corrupt or truncated?)")
    return kind, read_h5_config(path)
