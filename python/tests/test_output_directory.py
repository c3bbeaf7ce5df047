"""`export --out`: what it refuses to replace, errors of the location, stale temporaries, signals.

These drive bundle_writer with small byte files (no Keras model), except where noted.
"""
import errno
import json
import os
import re
import signal
import subprocess
import sys
import textwrap

import pytest

from bundle_io import leftovers
from conftest import PYTHON_DIR
from keras_bridge import bundle_writer, cli
from keras_bridge.bundle_writer import Interrupted, check_destination, write_bundle
from keras_bridge.errors import ExportError
from keras_bridge.exit_codes import EXIT

MANIFEST = json.dumps({"format": "keras-bridge-bundle", "format_version": 1}).encode()


def files(tag: str) -> dict:
    return {"manifest.json": MANIFEST, "weights.bin": tag.encode() * 1000, "goldens.bin": b"g"}


def snapshot(path):
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_cli_refuses_the_model_file_and_the_directories_holding_it(tmp_path, capsys):
    models = tmp_path / "models"
    models.mkdir()
    model = models / "model.keras"
    model.write_bytes(b"not loaded: refused before")
    (models / "manifest.json").write_bytes(MANIFEST)  # even a bundle directory holding the input
    for out, why in [(model, "is the input"), (models, "contains the input"), (tmp_path, "contains the input")]:
        code = cli.main(["export", "--model", str(model), "--out", str(out)])
        err = capsys.readouterr().err
        assert code == EXIT["input_error"], err
        assert f"--out {out}: {why} {model}; refusing to replace it (choose a new or empty directory)" in err
    assert model.read_bytes() == b"not loaded: refused before"


def test_refuses_the_current_home_and_root_directories(tmp_path, monkeypatch):
    bundle = tmp_path / "bundle"
    write_bundle(bundle, files("a"))
    monkeypatch.chdir(bundle)
    for out, why in [(bundle, "is the current directory"), (tmp_path, "contains the current directory")]:
        with pytest.raises(ExportError, match=why):
            check_destination(out)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(bundle))
    with pytest.raises(ExportError, match="is your home directory"):
        write_bundle(bundle, files("b"))
    with pytest.raises(ExportError, match="is the root directory"):
        check_destination(bundle.anchor and type(bundle)(bundle.anchor))
    assert snapshot(bundle) == files("a")


def test_an_error_of_the_location_names_the_path_and_the_errno(tmp_path, monkeypatch):
    out = tmp_path / "bundle"
    write_bundle(out, files("a"))
    real_write = bundle_writer._write_file

    def write(path, data):
        if path.name == "weights.bin":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, data)

    monkeypatch.setattr(bundle_writer, "_write_file", write)
    with pytest.raises(ExportError, match=r"--out .*bundle: cannot write the bundle: ENOSPC on .*weights\.bin: No space left on device; choose a location"):
        write_bundle(out, files("b"))
    assert snapshot(out) == files("a")
    assert leftovers(tmp_path) == []


def test_a_read_only_parent_is_an_input_error_and_keeps_the_bundle(tmp_path):
    # chmod does not deny root: then the write runs in a child as user nobody.
    as_root = hasattr(os, "getuid") and os.getuid() == 0
    parent = tmp_path / "locked"
    out = parent / "bundle"
    write_bundle(out, files("a"))
    if as_root:
        for path in (tmp_path, parent, *parent.rglob("*")):
            os.chown(path, 65534, 65534)
    parent.chmod(0o555)
    try:
        script = textwrap.dedent(
            f"""
            from keras_bridge.bundle_writer import write_bundle
            from keras_bridge.errors import ExportError
            try:
                write_bundle({str(out)!r}, {{"manifest.json": b"{{}}"}})
            except ExportError as exc:
                print(exc)
            """
        )
        env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR))
        try:
            child = subprocess.run(
                [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60,
                **({"user": 65534, "group": 65534} if as_root else {}),
            )
        except PermissionError as exc:  # nobody may not reach this Python (e.g. under /root)
            pytest.skip(f"running as root and user nobody cannot run {sys.executable}: {exc}")
        if as_root and child.returncode != 0 and "EACCES" not in child.stdout:
            pytest.skip(f"running as root and user nobody cannot run this Python: {child.stderr[-300:]}")
        assert child.returncode == 0, child.stderr
        assert re.search(r"--out .*bundle: cannot write the bundle: EACCES on .*: Permission denied", child.stdout), child.stdout
    finally:
        parent.chmod(0o755)
    assert snapshot(out) == files("a")
    assert leftovers(parent) == []


def test_temporaries_of_dead_exports_are_swept_and_a_moved_aside_bundle_put_back(tmp_path):
    dead = dead_pid()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        out = tmp_path / "bundle"
        stale = tmp_path / f".bundle.tmp-{dead}-0123456789ab"
        stale.mkdir()
        (stale / "weights.bin").write_bytes(b"partial")
        aside = tmp_path / f".bundle.old-{dead}-0123456789ab"
        aside.mkdir()
        for name, data in files("previous").items():
            (aside / name).write_bytes(data)
        busy = tmp_path / f".bundle.tmp-{live.pid}-ba9876543210"
        busy.mkdir()
        bundle_writer.sweep_stale_temporaries(out)
        assert snapshot(out) == files("previous")  # the killed export had moved it aside: put back
        assert sorted(p.name for p in tmp_path.iterdir()) == [busy.name, "bundle"]
        write_bundle(out, files("new"))
        assert snapshot(out) == files("new")
        assert sorted(p.name for p in tmp_path.iterdir()) == [busy.name, "bundle"]
    finally:
        live.kill()
        live.wait()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_writing_removes_the_temporary_and_keeps_the_bundle(tmp_path, signum):
    out = tmp_path / "bundle"
    write_bundle(out, files("previous"))
    # A writer that stops in the middle of its temporary directory until signalled.
    script = textwrap.dedent(
        f"""
        import sys, time
        from keras_bridge import bundle_writer
        real_write = bundle_writer._write_file
        def write(path, data):
            real_write(path, data)
            print("writing", flush=True)
            time.sleep(60)
        bundle_writer._write_file = write
        try:
            with bundle_writer.signals_raise():
                bundle_writer.write_bundle({str(out)!r}, {{"manifest.json": b"{{}}", "weights.bin": b"w"}})
        except (KeyboardInterrupt, bundle_writer.Interrupted):
            sys.exit(99)
        """
    )
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR))
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout.readline() == "writing\n"
    assert len(leftovers(tmp_path)) == 1
    child.send_signal(signum)
    assert child.wait(timeout=30) == 99
    assert leftovers(tmp_path) == []
    assert snapshot(out) == files("previous")


def test_cli_exit_codes_for_signals(monkeypatch, capsys):
    def interrupted(args):
        raise Interrupted(signal.SIGTERM)

    monkeypatch.setattr(cli, "run_export", interrupted)
    assert cli.main(["export", "--factory", "m:f", "--out", "x"]) == 143
    assert "interrupted by SIGTERM; nothing written" in capsys.readouterr().err

    def keyboard(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_export", keyboard)
    assert cli.main(["export", "--factory", "m:f", "--out", "x"]) == 130
