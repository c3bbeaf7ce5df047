"""A failed export leaves nothing behind and keeps an existing bundle as it was."""
import pytest

import keras_bridge
from bridge_test_models import variable_length_model
from bundle_io import BUNDLE_FILES, leftovers, read_bundle
from conftest import build_seed_model
from keras_bridge import bundle_writer
from keras_bridge.errors import ExportError


def _snapshot(path):
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


@pytest.fixture
def failing_write(monkeypatch):
    """Makes the writer fail after its first file, i.e. in the middle of the temp dir."""
    real_write = bundle_writer._write_file
    calls = []

    def write(path, data):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full (simulated)")
        real_write(path, data)

    monkeypatch.setattr(bundle_writer, "_write_file", write)
    return calls


def test_failure_while_writing_leaves_no_directory(tmp_path, failing_write):
    out = tmp_path / "nested" / "deeper" / "bundle"
    with pytest.raises(ExportError, match="cannot write the bundle: .*simulated"):
        keras_bridge.export(build_seed_model("swish"), out)
    assert len(failing_write) == 2
    assert not (tmp_path / "nested").exists()  # parents it created are gone too
    assert list(tmp_path.iterdir()) == []


def test_failure_while_writing_keeps_the_existing_bundle(tmp_path, monkeypatch):
    out = tmp_path / "bundle"
    keras_bridge.export(build_seed_model("swish"), out)
    before = _snapshot(out)
    real_write = bundle_writer._write_file

    def write(path, data):
        if path.name == "goldens.bin":
            raise OSError("disk full (simulated)")
        real_write(path, data)

    monkeypatch.setattr(bundle_writer, "_write_file", write)
    with pytest.raises(ExportError, match="cannot write the bundle"):
        keras_bridge.export(build_seed_model("temporal"), out)
    assert _snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_failure_while_renaming_keeps_the_existing_bundle(tmp_path, monkeypatch):
    out = tmp_path / "bundle"
    keras_bridge.export(build_seed_model("swish"), out)
    before = _snapshot(out)
    real_rename = bundle_writer.os.rename

    def rename(src, dst):
        if ".tmp-" in str(src):
            raise OSError("rename refused (simulated)")
        real_rename(src, dst)

    monkeypatch.setattr(bundle_writer.os, "rename", rename)
    with pytest.raises(ExportError, match="cannot write the bundle: .*simulated"):
        keras_bridge.export(build_seed_model("temporal"), out)
    assert _snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_model_error_keeps_the_existing_bundle(tmp_path):
    out = tmp_path / "bundle"
    keras_bridge.export(build_seed_model("swish"), out)
    before = _snapshot(out)
    with pytest.raises(ExportError, match="sequence"):
        # A size for a dimension the model fixes: refused before anything is written.
        keras_bridge.export(variable_length_model(), out, input_shapes={"sequence": [(5, 7)]})
    assert _snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_model_error_creates_nothing(tmp_path):
    with pytest.raises(ExportError):
        keras_bridge.export(variable_length_model(), tmp_path / "a" / "b", input_shapes={"sequence": [(5, 7)]})
    assert list(tmp_path.iterdir()) == []


def test_existing_bundle_is_replaced_on_success(tmp_path):
    out = tmp_path / "bundle"
    keras_bridge.export(build_seed_model("swish"), out)
    keras_bridge.export(build_seed_model("temporal"), out)
    bundle = read_bundle(out)
    assert {p.name for p in out.iterdir()} == BUNDLE_FILES
    assert bundle.manifest["custom_layers"][0]["class_name"] == "TemporalWeighting"
    assert leftovers(tmp_path) == []


def test_refuses_to_replace_a_directory_that_is_not_a_bundle(tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(ExportError, match="not a keras-bridge bundle"):
        keras_bridge.export(build_seed_model("swish"), out)
    assert (out / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious"]


def test_refuses_to_replace_a_file(tmp_path):
    out = tmp_path / "file"
    out.write_text("x")
    with pytest.raises(ExportError, match="not a directory"):
        keras_bridge.export(build_seed_model("swish"), out)
    assert out.read_text() == "x"


def test_empty_directory_is_filled(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    keras_bridge.export(build_seed_model("temporal"), out)
    assert {p.name for p in out.iterdir()} == BUNDLE_FILES
