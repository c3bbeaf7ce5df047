"""The manifest's record of each custom class's source, and the Python-only constructs found in its call()."""
import inspect
import json
import re
import sys
import types

import pytest

from conftest import REPO_ROOT, SEED_DIR
from keras_bridge.class_source import display_path, class_source, source_records
from keras_bridge.python_only import python_only_constructs

MODELS_DIR = REPO_ROOT / "fixtures" / "models"
if str(MODELS_DIR) not in sys.path:
    sys.path.insert(0, str(MODELS_DIR))

import custom_layers  # noqa: E402
import kw_config_layers  # noqa: E402
import python_only_layers  # noqa: E402
import seed_models  # noqa: E402

import keras  # noqa: E402

MARKER = re.compile(r"#\s*python-only:\s*(\w+)")


def custom_classes(module):
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, keras.layers.Layer) and value.__module__ == module.__name__
    ]


def marked_lines(path) -> set:
    """(line, construct) of every `# python-only: construct` marker in a fixture file."""
    return {
        (number, match.group(1))
        for number, text in enumerate(path.read_text().splitlines(), start=1)
        if (match := MARKER.search(text))
    }


def found(cls, roots) -> set:
    record = python_only_constructs(cls, roots)
    assert record["unanalyzed"] is None
    return {(f["line"], f["construct"]) for f in record["findings"]}


def line_of(path, text: str) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


def test_every_marked_construct_is_found_and_no_look_alike():
    path = MODELS_DIR / "python_only_layers.py"
    markers = marked_lines(path)
    assert {construct for _, construct in markers} == {
        "py_function", "numpy_function", "numpy_on_tensor", "numpy_method",
        "if_on_tensor", "while_on_tensor", "for_on_tensor",
    }
    union = set().union(*(found(cls, [MODELS_DIR]) for cls in custom_classes(python_only_layers)))
    assert union == markers


def test_findings_name_file_function_and_code():
    record = python_only_constructs(python_only_layers.HalveUntilSmall, [MODELS_DIR])
    assert record["analyzed"] == ["HalveUntilSmall.call", "HalveUntilSmall._rescale"]
    loop = next(f for f in record["findings"] if f["construct"] == "for_on_tensor")
    assert loop["file"] == "python_only_layers.py"
    assert loop["function"] == "HalveUntilSmall._rescale"
    assert loop["code"].startswith("for row in tf.range(tf.shape(h)[0]):")


def test_a_user_base_class_call_reached_through_super_is_analyzed():
    path = MODELS_DIR / "python_only_layers.py"
    assert found(python_only_layers.SquashedRisk, [MODELS_DIR]) == {
        (line_of(path, "tf.py_function(func=risk"), "py_function"),
        (line_of(path, "tf.numpy_function(clip_to_unit"), "numpy_function"),
    }


def test_the_seed_risk_layer_py_function_is_found_with_its_line():
    record = python_only_constructs(seed_models.CustomRiskLayer, [SEED_DIR])
    assert [(f["construct"], f["file"], f["line"]) for f in record["findings"]] == [
        ("py_function", "seed_models.py", line_of(SEED_DIR / "seed_models.py", "return tf.py_function("))
    ]
    for cls in (seed_models.SwishActivation, seed_models.TemporalWeighting):
        assert found(cls, [SEED_DIR]) == set()


@pytest.mark.parametrize("module", [custom_layers, kw_config_layers], ids=lambda m: m.__name__)
def test_layers_written_for_graphs_have_no_findings(module):
    for cls in custom_classes(module):
        assert found(cls, [MODELS_DIR]) == set(), cls.__name__


def test_source_record_is_relative_to_its_import_root_else_a_root_else_absolute():
    cls = python_only_layers.SquashedRisk
    path = MODELS_DIR / "python_only_layers.py"
    lines, first = inspect.getsourcelines(cls)
    assert class_source(cls, [SEED_DIR, MODELS_DIR]) == {
        "module": "python_only_layers",
        "qualname": "SquashedRisk",
        "file": "python_only_layers.py",
        "line": line_of(path, "class SquashedRisk("),
        "text": "".join(lines),
    }
    # The module's own import root wins: the same record from the CLI (--path) and the Python API.
    assert class_source(cls, [SEED_DIR])["file"] == "python_only_layers.py"
    assert class_source(cls, [])["file"] == "python_only_layers.py"
    # A file that is not the module's (the module renamed, run as __main__): a root, else absolute.
    assert display_path(str(path), [MODELS_DIR.parent], "__main__") == "models/python_only_layers.py"
    assert display_path(str(path), [SEED_DIR], "__main__") == str(path.resolve())
    assert display_path(str(path), [], "other_name") == str(path.resolve())
    records = source_records(cls, [MODELS_DIR])
    assert [b["qualname"] for b in records["base_sources"]] == ["ClipThroughNumpy"]
    assert records["base_sources"][0]["text"].startswith("class ClipThroughNumpy(keras.layers.Layer):")


def test_a_class_without_source_says_why():
    module = types.ModuleType("typed_in_a_console")
    sys.modules[module.__name__] = module
    try:
        exec(
            "import keras\nimport numpy as np\n"
            "class Typed(keras.layers.Layer):\n    def call(self, x):\n        return np.abs(x)\n",
            module.__dict__,
        )
        record = source_records(module.Typed)
        assert set(record["source"]) == {"module", "qualname", "unavailable"}
        assert "inspect.getsource failed" in record["source"]["unavailable"]
        analysis = python_only_constructs(module.Typed)
        assert analysis["findings"] == [] and "cannot be read" in analysis["unanalyzed"]
    finally:
        del sys.modules[module.__name__]


def test_export_records_sources_relative_to_path(tmp_path, restore_sys_path, capsys):
    from keras_bridge import cli

    out = tmp_path / "bundle"
    code = cli.main(["export", "--out", str(out), "--factory", "python_only_layers:python_only_model", "--path", str(MODELS_DIR), "--no-training-mode"])
    assert code == 0, capsys.readouterr().err
    text = (out / "manifest.json").read_text()
    assert str(REPO_ROOT) not in text  # nothing that changes between machines
    records = {r["class_name"]: r for r in json.loads(text)["custom_layers"]}
    assert set(records) == {cls.__name__ for cls in custom_classes(python_only_layers)}
    for cls in custom_classes(python_only_layers):
        record = records[cls.__name__]
        assert {k: record[k] for k in ("source", "base_sources")} == source_records(cls, [MODELS_DIR])
        assert record["python_only"] == python_only_constructs(cls, [MODELS_DIR])
