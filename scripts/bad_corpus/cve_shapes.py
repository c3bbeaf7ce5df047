"""Model files in the shapes of Keras's code-execution CVEs, with inert payloads: each payload, if
anything ever ran it, would only write a marker file (the `marker` path). One function per shape,
`shape(out_dir, marker) -> Path` of the file written; SHAPES lists them. Used by python/tests
(test_hostile_configs.py) and by the bad-input corpus generator.

The files are made from a real model saved by Keras, with its config edited: Keras can read the
rest of each file, so the config is the only thing in the way (docs/hostile-input.md).
"""
from __future__ import annotations

import base64
import io
import json
import marshal
import zipfile
from pathlib import Path

# --- payloads ------------------------------------------------------------------------------------


def marker_lambda(marker: Path):
    """A Python lambda that writes `marker` when it runs, then returns its input."""
    return eval(f"lambda x: (open({str(marker)!r}, 'w').write('ran'), x)[1]")  # noqa: S307 - builds the test payload


def marshalled_code(marker: Path) -> str:
    """Keras's func_dump of marker_lambda: base64 of the marshalled code object."""
    return base64.encodebytes(marshal.dumps(marker_lambda(marker).__code__)).decode("ascii")


def lambda_layer(marker: Path, name: str = "payload") -> dict:
    """A Keras 3 Lambda layer object whose function is the marker lambda (as Keras 3 writes it)."""
    return {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {
            "name": name,
            "trainable": True,
            "dtype": "float32",
            "function": {"class_name": "__lambda__", "config": {"code": marshalled_code(marker), "defaults": None, "closure": None}},
            "arguments": {},
        },
        "registered_name": None,
        "build_config": {"input_shape": [None, 4]},
    }


def lambda_function_object(marker: Path) -> dict:
    """serialize_keras_object's form of a lambda (e.g. a layer's activation)."""
    return {"class_name": "__lambda__", "config": {"value": [marshalled_code(marker), None, None]}}


def shell_command(marker: Path) -> str:
    return f"touch {marker}"


# --- base files ----------------------------------------------------------------------------------


def _keras():
    import keras

    return keras


def _base_sequential(path: Path) -> Path:
    keras = _keras()
    model = keras.Sequential(
        [keras.Input((4,), name="features"), keras.layers.Dense(3, name="dense"), keras.layers.Dense(2, name="head")],
        name="base",
    )
    model.save(path)
    return path


def _base_nested(path: Path) -> Path:
    """A Functional holding a Sequential and a TimeDistributed, so payloads can sit inside both."""
    keras = _keras()
    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, name="inner_dense")], name="inner")
    sequence = keras.Input((3, 4), name="sequence")
    features = keras.Input((4,), name="features")
    spread = keras.layers.TimeDistributed(keras.layers.Dense(4, name="step_dense"), name="spread")(sequence)
    out = keras.layers.Add(name="add")([inner(features), keras.layers.GlobalAveragePooling1D(name="pool")(spread)])
    keras.Model([sequence, features], out, name="nested").save(path)
    return path


def _edit_config(source: Path, target: Path, edit) -> Path:
    """Copies the .keras archive `source` to `target` with config.json replaced by edit(config)."""
    with zipfile.ZipFile(source) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    config = json.loads(entries["config.json"])
    edited = edit(config)  # None: config edited in place; or the new text (str or bytes)
    if edited is None:
        edited = json.dumps(config)
    entries["config.json"] = edited.encode() if isinstance(edited, str) else edited
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    target.write_bytes(buffer.getvalue())
    return target


def _edited(out_dir: Path, name: str, edit, base=_base_sequential) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    source = base(out_dir / f".base-{name}.keras")
    try:
        return _edit_config(source, out_dir / f"{name}.keras", edit)
    finally:
        source.unlink()


def _layers(config: dict) -> list:
    return config["config"]["layers"]


def _find(config, name: str) -> dict:
    """The object whose config names `name` (anywhere in the config)."""
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("config"), dict) and node["config"].get("name") == name and "class_name" in node:
                return node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    raise KeyError(name)


# --- CVE-2024-3660: Lambda layers carrying marshalled bytecode ---------------------------------


def lambda_top_level(out_dir: Path, marker: Path) -> Path:
    """A Sequential whose second layer is a Lambda with the marker lambda's bytecode."""

    def edit(config):
        _layers(config).insert(1, lambda_layer(marker))

    return _edited(out_dir, "lambda_top_level", edit)


def lambda_in_nested_sequential(out_dir: Path, marker: Path) -> Path:
    """The Lambda inside a Sequential sub-model of a Functional model."""

    def edit(config):
        inner = _find(config, "inner")
        inner["config"]["layers"].append(lambda_layer(marker, "inner_payload"))

    return _edited(out_dir, "lambda_in_nested_sequential", edit, base=_base_nested)


def lambda_in_wrapper(out_dir: Path, marker: Path) -> Path:
    """The Lambda as TimeDistributed's wrapped `layer` config."""

    def edit(config):
        _find(config, "spread")["config"]["layer"] = lambda_layer(marker, "wrapped_payload")

    return _edited(out_dir, "lambda_in_wrapper", edit, base=_base_nested)


def lambda_in_bidirectional(out_dir: Path, marker: Path) -> Path:
    """The Lambda as a Bidirectional's forward and backward `layer` configs."""

    def edit(config):
        wrapper = {
            "module": "keras.layers",
            "class_name": "Bidirectional",
            "config": {"name": "bidi", "merge_mode": "concat", "layer": lambda_layer(marker, "forward_payload"),
                       "backward_layer": lambda_layer(marker, "backward_payload")},
            "registered_name": None,
        }
        _layers(config).insert(1, wrapper)

    return _edited(out_dir, "lambda_in_bidirectional", edit)


def bytecode_in_custom_layer_config(out_dir: Path, marker: Path) -> Path:
    """A custom layer's config dict holding a __lambda__ object in a field a naive scan skips."""

    def edit(config):
        _layers(config).insert(1, {
            "module": "my_layers",
            "class_name": "Scaler",
            "config": {"name": "scaler", "options": {"hooks": [{"on_build": lambda_function_object(marker)}]}},
            "registered_name": "my_layers>Scaler",
        })

    return _edited(out_dir, "bytecode_in_custom_layer_config", edit)


def bare_bytecode_string(out_dir: Path, marker: Path) -> Path:
    """Base64 bytecode as a plain string of a custom layer's config (Keras 2's Lambda `function` form)."""

    def edit(config):
        _layers(config).insert(1, {
            "module": "my_layers",
            "class_name": "Scaler",
            "config": {"name": "scaler", "function": [marshalled_code(marker), None, None], "function_type": "lambda"},
            "registered_name": None,
        })

    return _edited(out_dir, "bare_bytecode_string", edit)


def lambda_as_activation(out_dir: Path, marker: Path) -> Path:
    """A Dense layer whose `activation` is a serialized lambda (the `function` of any object)."""

    def edit(config):
        _find(config, "dense")["config"]["activation"] = lambda_function_object(marker)

    return _edited(out_dir, "lambda_as_activation", edit)


# --- CVE-2025-1550: configs naming arbitrary importable functions --------------------------------


def _activation(name: str, module: str, function: str, registered=None):
    def shape(out_dir: Path, marker: Path) -> Path:
        def edit(config):
            dense = _find(config, "dense")
            dense["config"]["activation"] = {
                "module": module, "class_name": "function", "config": function,
                "registered_name": registered if registered is not None else function,
            }
            dense["config"]["payload_argument"] = shell_command(marker)

        return _edited(out_dir, name, edit)

    shape.__name__ = name
    shape.__doc__ = f"A Dense activation naming function {function!r} of module {module!r}."
    return shape


function_os_system = _activation("function_os_system", "os", "system")
function_builtins_eval = _activation("function_builtins_eval", "builtins", "eval")
function_registered_os_system = _activation("function_registered_os_system", "builtins", "os>system", registered="function")


def class_subprocess_popen(out_dir: Path, marker: Path) -> Path:
    """A layer entry whose module/class_name is subprocess.Popen with a command as its config."""

    def edit(config):
        _layers(config).insert(1, {
            "module": "subprocess", "class_name": "Popen",
            "config": {"name": "popen", "args": ["sh", "-c", shell_command(marker)]}, "registered_name": None,
        })

    return _edited(out_dir, "class_subprocess_popen", edit)


def class_builtins_exec(out_dir: Path, marker: Path) -> Path:
    """A layer object naming builtins.exec with Python source as its config."""

    def edit(config):
        _layers(config).insert(1, {
            "module": "builtins", "class_name": "exec",
            "config": {"name": "exec", "source": f"open({str(marker)!r}, 'w').write('ran')"}, "registered_name": None,
        })

    return _edited(out_dir, "class_builtins_exec", edit)


def registered_name_os_system(out_dir: Path, marker: Path) -> Path:
    """A Keras Dense whose registered_name is 'os>system' (registered names are looked up first)."""

    def edit(config):
        dense = _find(config, "dense")
        dense["registered_name"] = "os>system"
        dense["config"]["payload_argument"] = shell_command(marker)

    return _edited(out_dir, "registered_name_os_system", edit)


# --- CVE-2025-8747 / CVE-2025-9906: safe mode switched off while loading ------------------------


def _unsafe_then_lambda(name: str, switch: dict):
    def shape(out_dir: Path, marker: Path) -> Path:
        def edit(config):
            _layers(config)[1:1] = [switch, lambda_layer(marker)]

        return _edited(out_dir, name, edit)

    shape.__name__ = name
    shape.__doc__ = f"A layer entry that calls {switch['module']}.{switch['config'] if switch['class_name'] == 'function' else switch['class_name']}, then a Lambda."
    return shape


unsafe_via_keras_config = _unsafe_then_lambda(
    "unsafe_via_keras_config",
    {"module": "keras.config", "class_name": "function", "config": "enable_unsafe_deserialization", "registered_name": "enable_unsafe_deserialization"},
)
unsafe_via_serialization_lib = _unsafe_then_lambda(
    "unsafe_via_serialization_lib",
    {"module": "keras.src.saving.serialization_lib", "class_name": "enable_unsafe_deserialization", "config": {"name": "switch"}, "registered_name": None},
)
def unsafe_via_nested_activation(out_dir: Path, marker: Path) -> Path:
    """The switch as the activation of a layer inside a nested Sequential, a Lambda after it."""

    def edit(config):
        inner = _find(config, "inner")
        inner["config"]["layers"][-1]["config"]["activation"] = {
            "module": "keras.config", "class_name": "function", "config": "enable_unsafe_deserialization",
            "registered_name": "enable_unsafe_deserialization",
        }
        inner["config"]["layers"].append(lambda_layer(marker, "after_switch"))

    return _edited(out_dir, "unsafe_via_nested_activation", edit, base=_base_nested)


# --- CVE-2025-9905: legacy .h5 with a Lambda (its loader ignored safe_mode) -----------------------


def legacy_h5_lambda(out_dir: Path, marker: Path) -> Path:
    """A legacy .h5 model whose model_config holds a Keras 2 style Lambda (bytecode in `function`)."""
    import h5py

    keras = _keras()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "legacy_h5_lambda.h5"
    model = keras.Sequential([keras.Input((4,), name="features"), keras.layers.Dense(3, name="dense")], name="legacy")
    model.save(path)
    with h5py.File(path, "r+") as handle:
        config = json.loads(handle.attrs["model_config"])
        config["config"]["layers"].append({
            "class_name": "Lambda",
            "config": {"name": "legacy_payload", "trainable": True, "dtype": "float32",
                       "function": [marshalled_code(marker), None, None], "function_type": "lambda",
                       "output_shape": None, "output_shape_type": "raw", "module": None, "arguments": {}},
        })
        handle.attrs["model_config"] = json.dumps(config)
    return path


# --- not code, but hostile: polyglot, huge and deep configs, escape sequences --------------------


def polyglot_hdf5_zip(out_dir: Path, marker: Path) -> Path:
    """An HDF5 model followed by a .keras zip: HDF5 signature at 0, zip end record in the tail."""
    h5 = legacy_h5_lambda(out_dir, marker)
    zipped = lambda_top_level(out_dir, marker)
    path = Path(out_dir) / "polyglot_hdf5_zip.keras"
    path.write_bytes(h5.read_bytes() + zipped.read_bytes())
    h5.unlink()
    zipped.unlink()
    return path


def huge_layer_name(out_dir: Path, marker: Path, size: int = 100 * 1024 * 1024) -> Path:
    """A layer named by a `size`-character string (100 MB by default; the zip is ~100 KB)."""

    def edit(config):
        dense = _find(config, "dense")
        dense["config"]["name"] = "n" * size
        dense["name"] = dense["config"]["name"]
        return json.dumps(config).encode()

    return _edited(out_dir, "huge_layer_name", edit)


def deep_nesting(out_dir: Path, marker: Path, depth: int = 10_000) -> Path:
    """A config value that is a list nested `depth` levels deep."""

    def edit(config):
        text = json.dumps(config)
        return text.replace('"units": 3', '"units": 3, "deep": ' + "[" * depth + "]" * depth, 1)

    return _edited(out_dir, "deep_nesting", edit)


def escape_sequence_name(out_dir: Path, marker: Path) -> Path:
    """A custom layer whose name holds terminal escape sequences (clear screen, retitle, colour)."""

    def edit(config):
        _layers(config).insert(1, {
            "module": "my_layers", "class_name": "Scaler",
            "config": {"name": "\x1b[2J\x1b]0;owned\x07\x1b[31mred", "scale": 2.0}, "registered_name": None,
        })

    return _edited(out_dir, "escape_sequence_name", edit)


CODE_SHAPES = {
    "CVE-2024-3660": [lambda_top_level, lambda_in_nested_sequential, lambda_in_wrapper, lambda_in_bidirectional,
                      bytecode_in_custom_layer_config, bare_bytecode_string, lambda_as_activation],
    "CVE-2025-1550": [function_os_system, function_builtins_eval, function_registered_os_system,
                      class_subprocess_popen, class_builtins_exec, registered_name_os_system],
    "CVE-2025-8747/CVE-2025-9906": [unsafe_via_keras_config, unsafe_via_serialization_lib, unsafe_via_nested_activation],
    "CVE-2025-9905": [legacy_h5_lambda],
}
SHAPES = [shape for shapes in CODE_SHAPES.values() for shape in shapes] + [
    polyglot_hdf5_zip, huge_layer_name, deep_nesting, escape_sequence_name,
]


def write_all(out_dir: Path, marker: Path) -> list:
    """Every shape into `out_dir`; returns their paths."""
    return [shape(out_dir, marker) for shape in SHAPES]


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "cve-shapes")
    for written in write_all(target, target / "MARKER"):
        print(written)
