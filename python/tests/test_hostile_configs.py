"""Issue 12, the Python side: no code from a model file ever runs (Keras's CVE history as the
checklist, scripts/bad_corpus/cve_shapes.py), and what a file says is echoed bounded and escaped."""
from __future__ import annotations

import json
import re
import sys
import time
import zipfile
from pathlib import Path

import keras
import pytest

from conftest import REPO_ROOT
from keras_bridge import cli
from keras_bridge.config_scan import MAX_NAME_CHARS, HostileConfigError, read_model_config, scan_config
from keras_bridge.echo import bounded_message, quote_for_message
from keras_bridge.errors import ExportError

sys.path.insert(0, str(REPO_ROOT / "scripts" / "bad_corpus"))
import cve_shapes  # noqa: E402

PREFIX = "keras-bridge export: error: "

# Per shape: the innermost layer and the field the refusal names, and what it says.
EXPECTED = {
    "lambda_top_level": ("payload", r"config\.layers\[1\]\.class_name", "a Lambda layer"),
    "lambda_in_nested_sequential": ("inner_payload", r"config\.layers\[\d+\]\.config\.layers\[2\]\.class_name", "a Lambda layer"),
    "lambda_in_wrapper": ("wrapped_payload", r"config\.layers\[\d+\]\.config\.layer\.class_name", "a Lambda layer"),
    "lambda_in_bidirectional": ("forward_payload", r"config\.layers\[1\]\.config\.layer\.class_name", "a Lambda layer"),
    "bytecode_in_custom_layer_config": ("scaler", r"config\.layers\[1\]\.config\.options\.hooks\[0\]\.on_build", "__lambda__"),
    "bare_bytecode_string": ("scaler", r"config\.layers\[1\]\.config\.function\[0\]", "marshalled Python bytecode"),
    "lambda_as_activation": ("dense", r"config\.layers\[1\]\.config\.activation", "__lambda__"),
    "function_os_system": ("dense", r"config\.layers\[1\]\.config\.activation\.config", "function 'system' of module 'os'"),
    "function_builtins_eval": ("dense", r"config\.layers\[1\]\.config\.activation\.config", "function 'eval' of module 'builtins'"),
    "function_registered_os_system": ("dense", r"config\.layers\[1\]\.config\.activation\.config", "function 'os>system'"),
    "class_subprocess_popen": ("popen", r"config\.layers\[1\]\.module", "'Popen' from module 'subprocess'"),
    "class_builtins_exec": ("exec", r"config\.layers\[1\]\.module", "'exec' from module 'builtins'"),
    "registered_name_os_system": ("dense", r"config\.layers\[1\]\.registered_name", "registered_name 'os>system'"),
    "unsafe_via_keras_config": ("base", r"config\.layers\[1\]", "'enable_unsafe_deserialization', a Keras loading or safe-mode API"),
    "unsafe_via_serialization_lib": ("switch", r"config\.layers\[1\]", "'enable_unsafe_deserialization', a Keras loading or safe-mode API"),
    "unsafe_via_nested_activation": ("inner_dense", r"config\.layers\[\d+\]\.config\.layers\[1\]\.config\.activation", "enable_unsafe_deserialization"),
    "legacy_h5_lambda": ("legacy_payload", r"config\.layers\[\d+\]\.class_name", "a Lambda layer"),
}
CODE_SHAPES = [(cve, shape) for cve, shapes in cve_shapes.CODE_SHAPES.items() for shape in shapes]


def _export(capsys, *argv) -> tuple:
    code = cli.main(["export", *argv])
    return code, capsys.readouterr().err.strip().splitlines()[-1]


@pytest.fixture
def keras_never_loads(monkeypatch):
    """The refusals must come from keras-bridge's own scan, not from Keras's safe_mode."""

    def refuse(*args, **kwargs):
        raise AssertionError("keras.saving.load_model was reached")

    monkeypatch.setattr(keras.saving, "load_model", refuse)


def test_every_code_shape_has_an_expectation():
    assert sorted(shape.__name__ for _, shape in CODE_SHAPES) == sorted(EXPECTED)


@pytest.mark.parametrize("cve, shape", CODE_SHAPES, ids=[f"{cve}:{shape.__name__}" for cve, shape in CODE_SHAPES])
def test_code_shapes_are_refused_before_keras_and_nothing_runs(tmp_path, capsys, keras_never_loads, cve, shape):
    marker = tmp_path / "MARKER"
    path = shape(tmp_path / "files", marker)
    code, line = _export(capsys, "--model", str(path), "--out", str(tmp_path / "bundle"))
    layer, field, reason = EXPECTED[shape.__name__]
    assert code == 2, line
    assert re.match(rf"{re.escape(PREFIX)}--model {re.escape(str(path))}: layer '{layer}', field {field}: ", line), line
    assert reason in line
    assert not marker.exists()
    assert not (tmp_path / "bundle").exists()
    # Never advise importing a module the file names when that module is not a user's layer module.
    assert not re.search(r"--module (os|builtins|subprocess|keras)\b", line), line


@pytest.mark.parametrize("shape", [cve_shapes.lambda_top_level, cve_shapes.legacy_h5_lambda])
def test_the_payloads_are_live(tmp_path, shape):
    """The control: Keras with safe mode off runs the payload, so a marker that stays absent above
    means the payload did not run (not that it could not)."""
    marker = tmp_path / "MARKER"
    path = shape(tmp_path / "files", marker)
    keras.saving.load_model(path, safe_mode=False, compile=False)
    assert marker.read_text() == "ran"


def test_a_user_module_does_not_unlock_a_foreign_module(tmp_path, capsys):
    path = cve_shapes.class_subprocess_popen(tmp_path, tmp_path / "MARKER")
    code, line = _export(capsys, "--model", str(path), "--out", str(tmp_path / "b"), "--module", "subprocess")
    assert code == 2 and "'Popen' from module 'subprocess'" in line
    assert not (tmp_path / "MARKER").exists()


def test_an_unknown_user_module_gets_the_module_advice(tmp_path, capsys):
    path = cve_shapes.escape_sequence_name(tmp_path, tmp_path / "MARKER")
    code, line = _export(capsys, "--model", str(path), "--out", str(tmp_path / "b"))
    assert code == 2
    assert "custom class 'Scaler' (module 'my_layers') is unknown" in line
    assert line.endswith("custom class 'Scaler' (module 'my_layers') is unknown; pass --module my_layers (and --path DIR if it is not importable)")


def test_layer_names_with_terminal_escapes_print_escaped(tmp_path, capsys):
    path = cve_shapes.escape_sequence_name(tmp_path, tmp_path / "MARKER")
    code = cli.main(["export", "--model", str(path), "--out", str(tmp_path / "b")])
    err = capsys.readouterr().err
    assert code == 2
    assert "\x1b" not in err and "\x07" not in err
    assert r"layer '\x1b[2J\x1b]0;owned\x07\x1b[31mred'" in err


def test_a_polyglot_is_refused(tmp_path, capsys, keras_never_loads):
    path = cve_shapes.polyglot_hdf5_zip(tmp_path, tmp_path / "MARKER")
    code, line = _export(capsys, "--model", str(path), "--out", str(tmp_path / "b"))
    assert code == 2
    assert "both an HDF5 file and a zip archive" in line
    assert not (tmp_path / "MARKER").exists()


def test_a_100_mb_config_string_makes_a_short_message(tmp_path, capsys, keras_never_loads):
    """100 MB of name compresses to ~200 KB; config.json's size is checked before it is read."""
    path = cve_shapes.huge_layer_name(tmp_path, tmp_path / "MARKER")
    assert path.stat().st_size < 1024 * 1024
    start = time.monotonic()
    code, line = _export(capsys, "--model", str(path), "--out", str(tmp_path / "b"))
    assert code == 2 and len(line) < 500, line[:600]
    assert "config.json is" in line and "reads at most" in line
    assert time.monotonic() - start < 10


def test_a_long_name_under_the_size_bound_is_refused_with_a_bounded_echo(tmp_path, capsys, keras_never_loads):
    """The 1 MB name that made a 14 MB manifest (and 100 MB, 1.47 GB): refused, its echo truncated."""
    path = cve_shapes.huge_layer_name(tmp_path, tmp_path / "MARKER", size=1_000_000)
    code, line = _export(capsys, "--model", str(path), "--out", str(tmp_path / "b"))
    assert code == 2 and len(line) < 1000, line[:1100]
    assert re.search(r"layer 'n{200}… \(999800 more characters\)', field config\.layers\[1\]\.config\.name: a string of 1000000 characters", line), line[:600]


def test_a_factory_model_with_a_long_name_is_refused_before_writing(tmp_path):
    from keras_bridge import export

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, name="d" * (MAX_NAME_CHARS + 1))])
    with pytest.raises(ExportError, match=r"has a name of 1025 characters; keras-bridge accepts at most 1024") as info:
        export(model, tmp_path / "b")
    assert len(str(info.value)) < 600
    assert not (tmp_path / "b").exists()


def test_a_10000_deep_list_is_a_clear_error(tmp_path, capsys, keras_never_loads):
    path = cve_shapes.deep_nesting(tmp_path, tmp_path / "MARKER")
    code, line = _export(capsys, "--model", str(path), "--out", str(tmp_path / "b"))
    assert code == 2
    assert line == f"{PREFIX}--model {path}: config.json is nested too deeply to read (more than 200 levels)"


def test_a_300_deep_list_that_json_reads_is_refused_by_the_scan():
    config = {"class_name": "Dense", "module": "keras.layers", "config": {"name": "d", "deep": json.loads("[" * 300 + "]" * 300)}}
    with pytest.raises(HostileConfigError, match=r"layer 'd', field config\.deep(\[0\]){199}.*nested more than 200 levels"):
        scan_config(config, "f.keras")


def test_an_archive_with_two_config_entries_is_refused(tmp_path, capsys):
    path = tmp_path / "twice.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}")
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("config.json", "{}")
    code, line = _export(capsys, "--model", str(path), "--out", str(tmp_path / "b"))
    assert code == 2 and "holds entry 'config.json' twice" in line


def test_the_fixture_models_pass_the_scan():
    """What Keras 3 and Keras 2 really write (fixtures/keras) is not refused: the allowlist is wide enough."""
    files = sorted((REPO_ROOT / "fixtures" / "keras").glob("*.keras")) + sorted((REPO_ROOT / "fixtures" / "keras").glob("*.h5"))
    assert len(files) >= 15
    for path in files:
        _, config = read_model_config(path)
        scan_config(
            config, path,
            user_modules=["custom_layers", "seed_models", "kw_config_layers", "naming_rules"],
            custom_names=["ScalarGain", "SwishActivation", "TemporalWeighting"],
            registered_functions=["fixtures>scaled_tanh"],
        )


def test_a_legacy_h5_model_exports_through_the_scan(tmp_path, capsys):
    path = REPO_ROOT / "fixtures" / "keras" / "two_branch_legacy.h5"
    argv = ["export", "--model", str(path), "--out", str(tmp_path / "b"), "--no-training-mode"]
    assert cli.main(argv) == 2
    assert "custom class 'SwishActivation' is unknown; pass the --module that defines it" in capsys.readouterr().err
    code = cli.main([*argv, "--module", "seed_models", "--path", str(REPO_ROOT / "fixtures" / "seed")])
    assert code == 0, capsys.readouterr().err
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["model"]["name"] == read_model_config(path)[1]["config"]["name"] == "two_branch"
    assert [layer["class_name"] for layer in manifest["layers"]].count("SwishActivation") == 1


def test_quote_for_message_truncates_and_escapes():
    assert quote_for_message("plain") == "'plain'"
    assert quote_for_message("x" * 250) == f"'{'x' * 200}… (50 more characters)'"
    assert quote_for_message("\x1b[31mred\x1b[0m\n") == r"'\x1b[31mred\x1b[0m\n'"
    assert quote_for_message("a\\b") == r"'a\\b'"
    assert quote_for_message("\u202e\u2028\x9b") == r"'\u202e\u2028\x9b'"
    assert quote_for_message(["a"] * 10**6) == "a list of 1000000 items"
    assert bounded_message("m" * 10_000).endswith("… (6000 more characters)")
    assert bounded_message(r"layer '\x1b'") == r"layer '\x1b'"  # quoted values are not escaped twice


def test_progress_lines_escape_layer_names(capsys):
    from keras_bridge.progress import to_stderr

    to_stderr("layer \x1b[2J\u202eevil could not be traced")
    assert capsys.readouterr().err == "layer \\x1b[2J\\u202eevil could not be traced\n"
