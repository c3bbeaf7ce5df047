"""`python -m keras_bridge export`: flags, exit codes and one-line errors."""
import json
import os
import re
import subprocess
import sys

import pytest

from bridge_test_models import lambda_model
from bundle_io import BUNDLE_FILES, read_bundle
from conftest import PYTHON_DIR, REPO_ROOT, SEED_DIR, TESTS_DIR, build_seed_model
from keras_bridge import cli, contract
from keras_bridge.exit_codes import EXIT

PREFIX = "keras-bridge export: error:"


def run_cli(capsys, *argv):
    """main() in-process; returns (exit code, stdout, the error line or None)."""
    try:
        code = cli.main(["export", *argv])
    except SystemExit as exc:  # argparse
        code = exc.code
    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if ": error:" in line]
    assert len(errors) <= 1, err
    return code, out, (errors[0] if errors else None)


def subprocess_cli(*argv, cwd=REPO_ROOT):
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR), TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, "-m", "keras_bridge", *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def lambda_file(tmp_path):
    path = tmp_path / "lambda.keras"
    lambda_model().save(path)
    return path


@pytest.fixture
def swish_file(tmp_path):
    path = tmp_path / "swish.keras"
    build_seed_model("swish").save(path)
    return path


@pytest.mark.usefixtures("restore_sys_path")
@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--model", "{tmp}/missing.keras"], "missing.keras: no such file"),
        (["--model", "{tmp}/corrupt.keras"], "corrupt.keras: not a valid .keras file"),
        (["--model", "{tmp}/model.txt"], "expected a Keras 3 .keras file (or a legacy .h5 model)"),
        (["--model", "{tmp}/model.h5"], "model.h5: not a valid .h5 file (no HDF5 signature"),
        (["--model", "{swish}"], "custom class 'SwishActivation' (module 'seed_models') is unknown; pass --module seed_models"),
        (["--model", "{swish}", "--module", "no_such_module_xyz"], "--module no_such_module_xyz: module not found"),
        (["--model", "{swish}", "--module", "bridge_test_models"], "the --module list (bridge_test_models) does not define it"),
        (["--model", "{lambda}"], "layer 'doubler', field config.layers[1].class_name: a Lambda layer"),
        (["--factory", "bridge_test_models:lambda_model"], "layer 'doubler' is a Lambda layer"),
        (["--factory", "no_such_module_xyz:f"], "--factory no_such_module_xyz: module not found"),
        (["--factory", "bridge_test_models:nope"], "module 'bridge_test_models' has no attribute 'nope'"),
        (["--factory", "bridge_test_models"], "expected MODULE:FUNCTION"),
        (["--factory", "bridge_test_models:unbuilt_model"], "returned an unbuilt model"),
        (["--factory", "bridge_test_models:not_a_model"], "returned int, not a keras.Model"),
        (["--factory", "bridge_test_models:raising_factory"], "the factory raised ValueError: this factory is broken on purpose"),
        (["--factory", "bridge_test_models:variable_length_model", "--input-shape", "sequence=5,3"], "dimension 2 of model input 'sequence' is fixed at 4"),
        (["--factory", "seed_models:swish_model", "--path", "{tmp}/no-such-dir"], "no-such-dir: no such directory"),
    ],
    ids=[
        "missing-file", "corrupt-file", "not-keras-suffix", "empty-h5", "custom-class-without-module", "bad-module",
        "module-without-the-class", "lambda-file", "lambda-factory", "bad-factory-module", "bad-factory-name",
        "factory-without-colon", "unbuilt-model", "not-a-model", "factory-raises", "input-shape-against-fixed-dim", "bad-path",
    ],
)
def test_input_errors_exit_2_with_one_line(argv, expected, tmp_path, capsys, swish_file, lambda_file):
    (tmp_path / "corrupt.keras").write_bytes(b"not a zip archive")
    (tmp_path / "model.h5").write_bytes(b"")
    (tmp_path / "model.txt").write_bytes(b"")
    argv = [a.format(tmp=tmp_path, swish=swish_file, **{"lambda": lambda_file}) for a in argv]
    out_dir = tmp_path / "out"
    code, out, error = run_cli(capsys, "--out", str(out_dir), "--path", str(TESTS_DIR), str(SEED_DIR), *argv)
    assert code == 2
    assert error is not None and error.startswith(PREFIX), error
    assert expected in error
    assert out == ""
    assert not out_dir.exists()


@pytest.mark.parametrize(
    "argv, expected",
    [
        ([], "the following arguments are required: --out"),
        (["--out", "x"], "one of the arguments --factory --model is required"),
        (["--out", "x", "--factory", "a:b", "--model", "m.keras"], "not allowed with argument"),
        (["--out", "x", "--factory", "a:b", "--seed", "-1"], "argument --seed: expected a non-negative integer"),
        (["--out", "x", "--factory", "a:b", "--batch-size", "0"], "argument --batch-size: expected a positive integer"),
    ],
)
def test_usage_errors_exit_2_with_one_line(argv, expected, capsys):
    code, out, error = run_cli(capsys, *argv)
    assert code == 2
    assert error.startswith(PREFIX) and expected in error


def test_internal_error_exits_with_the_tables_internal_error_code(tmp_path, capsys, monkeypatch, restore_sys_path):
    import keras_bridge.exporter

    def broken(*args, **kwargs):
        raise RuntimeError("unexpected (simulated)")

    monkeypatch.setattr(keras_bridge.exporter, "compute_goldens", broken)
    code, out, error = run_cli(capsys, "--out", str(tmp_path / "o"), "--path", str(SEED_DIR), "--factory", "seed_models:swish_model")
    assert code == EXIT["internal_error"] == 70
    assert error.startswith(f"{PREFIX} internal error: RuntimeError: unexpected (simulated)")
    assert not (tmp_path / "o").exists()


def test_the_exit_code_table_is_the_one_file_both_languages_read():
    table = json.loads((PYTHON_DIR / "keras_bridge" / "schemas" / "exit-codes.json").read_text(encoding="utf-8"))["codes"]
    assert EXIT == {name: entry["code"] for name, entry in table.items()}
    assert (EXIT["ok"], EXIT["input_error"], EXIT["internal_error"]) == (0, 2, 70)
    assert "70 internal error" in " ".join(subprocess_cli("export", "--help").stdout.split())


# ---- the options document (--options-json), what keras-bridge export passes ----


def _options_file(tmp_path, document) -> str:
    path = tmp_path / "options.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return str(path)


def test_flags_parse_into_the_options_document():
    args = cli.build_parser().parse_args(["export", "--out", "o", "--factory", "m:f", "--seed", "3", "--no-training-mode", "--input-range", "ids=2:5"])
    document = cli.options_from_args(args)
    assert document == {
        "out": "o", "factory": "m:f", "modules": [], "paths": [], "seed": 3, "batchSize": 2, "inputRanges": ["ids=2:5"],
        "inputShapes": [], "layerGradients": "auto", "trainingMode": False, "float64Reference": False, "kernelVariants": True,
        "trainSteps": 0, "savedModel": False,
    }
    contract.validate(contract.EXPORT_OPTIONS_SCHEMA, document)
    assert cli.export_arguments(document)["input_ranges"] == {"ids": (2, 5)}


def test_an_options_document_exports_like_the_flags(tmp_path, capsys, restore_sys_path):
    document = {"out": str(tmp_path / "doc"), "factory": "seed_models:swish_model", "paths": [str(SEED_DIR)], "seed": 4}
    assert cli.main(["export", "--options-json", _options_file(tmp_path, document)]) == 0, capsys.readouterr().err
    code, _, error = run_cli(capsys, "--out", str(tmp_path / "flags"), "--factory", "seed_models:swish_model", "--path", str(SEED_DIR), "--seed", "4")
    assert code == 0, error
    assert read_bundle(tmp_path / "doc").goldens_bin == read_bundle(tmp_path / "flags").goldens_bin


@pytest.mark.parametrize(
    "document, expected",
    [
        ("{not json", "--options-json {file}: not JSON"),
        ([1], "export options: expected a JSON object, got list"),
        ({"factory": "m:f"}, "export options: field 'out': required, missing"),
        ({"out": "o"}, "give exactly one of factory (MODULE:FN) and model"),
        ({"out": "o", "factory": "m:f", "model": "x.keras"}, "give exactly one of factory"),
        ({"out": "o", "factory": "m:f", "seed": -1}, "field 'seed': expected a number >= 0, got -1"),
        ({"out": "o", "factory": "m:f", "batchSize": 2.5}, "field 'batchSize': expected integer"),
        ({"out": "o", "factory": "m:f", "layerGradients": "sometimes"}, "field 'layerGradients': expected one of \"auto\", \"always\", \"never\""),
        ({"out": "o", "factory": "m:f", "batch_size": 2}, "field 'batch_size': not a field of this record"),
        ({"out": "o", "factory": "m:f", "inputRanges": ["ids=5:2"]}, "export options: inputRanges: expected NAME=HIGH or NAME=LOW:HIGH"),
        ({"out": "o", "factory": "m:f", "inputShapes": ["ids=a"]}, "export options: inputShapes: expected NAME=D1,D2,..."),
    ],
)
def test_a_bad_options_document_is_an_input_error_naming_the_field(tmp_path, capsys, document, expected):
    file = _options_file(tmp_path, document if not isinstance(document, list) else json.dumps(document))
    code, out, error = run_cli(capsys, "--options-json", file)
    assert code == EXIT["input_error"]
    assert error.startswith(PREFIX) and expected.format(file=file) in error, error
    assert out == ""


def test_options_json_takes_no_other_flags(tmp_path, capsys):
    code, _, error = run_cli(capsys, "--options-json", _options_file(tmp_path, {}), "--seed", "3", "--no-training-mode")
    assert code == EXIT["input_error"]
    assert "--options-json: give every option in the document, not also as flags (--seed, --no-training-mode)" in error


def test_options_json_from_stdin_and_a_missing_file(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "keras_bridge", "export", "--options-json", "-"], input='{"out": "o", "factory": "m:f", "seed": "1"}',
        env=dict(os.environ, PYTHONPATH=str(PYTHON_DIR)), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == EXIT["input_error"]
    assert "export options: field 'seed': expected integer, got string '1'" in result.stderr
    missing = subprocess_cli("export", "--options-json", str(tmp_path / "none.json"))
    assert missing.returncode == EXIT["input_error"]
    assert "none.json: cannot be read (No such file or directory)" in missing.stderr


def test_in_process_export_prints_the_bundle_path_and_progress(tmp_path, capsys, restore_sys_path):
    out_dir = tmp_path / "risk"
    code = cli.main(["export", "--out", str(out_dir), "--path", str(SEED_DIR), "--factory", "seed_models:risk_model", "--seed", "3"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.strip() == str(out_dir.absolute())
    assert "exporting sequential" in err and "1 custom (CustomRiskLayer)" in err
    assert re.search(r"finite differences for custom_risk_layer(_\d+)?: 256 evaluations", err), err
    assert read_bundle(out_dir).manifest["seed"] == 3


def test_help_documents_every_flag():
    result = subprocess_cli("export", "--help")
    assert result.returncode == 0
    for flag in ("--out", "--factory", "--model", "--module", "--seed", "--batch-size", "--path"):
        assert flag in result.stdout


def test_subprocess_export_of_a_seed_factory(tmp_path):
    """The documented invocation, run from the repository root with a relative --path."""
    out_dir = tmp_path / "swish"
    result = subprocess_cli("export", "--out", str(out_dir), "--path", "fixtures/seed", "--factory", "seed_models:swish_model")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out_dir)
    assert "exporting sequential: 3 layers, 1 custom (SwishActivation)" in result.stderr
    assert {p.name for p in out_dir.iterdir()} == BUNDLE_FILES
    # Same weights and goldens as the in-process export of the same factory and seed.
    assert read_bundle(out_dir).weights_bin == read_bundle(
        __import__("keras_bridge").export(build_seed_model("swish"), tmp_path / "again")
    ).weights_bin


def test_subprocess_input_error_exit_code(tmp_path):
    result = subprocess_cli("export", "--out", str(tmp_path / "o"), "--model", str(tmp_path / "missing.keras"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(PREFIX)
    assert result.stdout == ""


def test_every_option_of_the_schema_has_a_flag_and_a_use():
    """A field added to exportOptionsSchema (TypeScript) fails here until cli.py gives it a flag and uses it."""
    properties = contract.load_schema(contract.EXPORT_OPTIONS_SCHEMA)["properties"]
    assert set(cli._FIELDS.values()) == set(properties)
    base = {"out": "o", "factory": "m:f"}
    other = {
        "out": "p", "factory": "n:g", "modules": ["m"], "paths": ["d"], "seed": 1, "batchSize": 3, "inputRanges": ["ids=4"],
        "inputShapes": ["x=3"], "layerGradients": "never", "trainingMode": False, "trainSteps": 2, "float64Reference": True,
        "kernelVariants": False, "savedModel": True,
    }
    assert set(other) == set(properties) - {"model"}
    for field, value in other.items():
        assert cli.export_arguments({**base, field: value}) != cli.export_arguments(base), f"cli.export_arguments ignores {field}"
    assert cli.export_arguments({"out": "o", "model": "x.keras"})["model"] == "x.keras"
