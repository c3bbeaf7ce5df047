"""Writing a bundle: packed tensor files and the atomic temp-dir-then-rename directory write.

Nothing here imports TensorFlow: it deals in numpy arrays, bytes and JSON.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import shutil
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .errors import ExportError

BUNDLE_FORMAT = "keras-bridge-bundle"
FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
MODEL_CONFIG_FILE = "model.keras.json"
WEIGHTS_FILE = "weights.bin"
GOLDENS_FILE = "goldens.bin"

# The dtypes bundle format 1 can hold, and their little-endian numpy layout.
_DTYPES = {
    "float32": np.dtype("<f4"),
    "float64": np.dtype("<f8"),
    "int32": np.dtype("<i4"),
    "int64": np.dtype("<i8"),
    "bool": np.dtype("bool"),  # one byte, 0 or 1
    # Narrow integers, for model inputs (an image as uint8): readers feed them as int32.
    "uint8": np.dtype("u1"),
    "int8": np.dtype("i1"),
    "uint16": np.dtype("<u2"),
    "int16": np.dtype("<i2"),
}


def bundle_dtype(dtype: Any, what: str) -> str:
    """The bundle dtype name for a numpy/TF/Keras dtype, or an ExportError naming `what`."""
    name = getattr(dtype, "name", None) or str(dtype)
    name = {"bool_": "bool"}.get(name, name)
    if name not in _DTYPES:
        allowed = ", ".join(_DTYPES)
        raise ExportError(f"{what} has dtype {name}; bundle format {FORMAT_VERSION} holds only {allowed}")
    return name


@dataclass
class TensorPack:
    """Tensors packed back to back, C order, little-endian, no padding."""

    _chunks: list[bytes] = field(default_factory=list)
    _size: int = 0

    def add(self, array: Any, dtype: str, what: str) -> dict:
        """Appends `array` as `dtype`; returns its shape/dtype/offset/byte_length record."""
        name = bundle_dtype(dtype, what)
        source = np.asarray(array)
        # ascontiguousarray turns 0-d arrays into 1-d ones: keep the shape of scalars (e.g. a
        # Normalization layer's count, Attention's scale) from the source.
        data = np.ascontiguousarray(source, dtype=_DTYPES[name])
        raw = data.tobytes(order="C")
        record = {
            "shape": [int(d) for d in source.shape],
            "dtype": name,
            "offset": self._size,
            "byte_length": len(raw),
        }
        self._chunks.append(raw)
        self._size += len(raw)
        return record

    @property
    def size(self) -> int:
        return self._size

    def getvalue(self) -> bytes:
        return b"".join(self._chunks)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json_bytes(obj: Any, what: str) -> bytes:
    """UTF-8 JSON, indent=2, trailing newline, as the format requires."""
    try:
        text = json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise ExportError(f"{what} cannot be written as JSON: {exc}") from exc
    return (text + "\n").encode("utf-8")


def is_bundle_dir(path: Path) -> bool:
    """True for a directory holding a keras-bridge manifest (of any format version)."""
    try:
        manifest = json.loads((path / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("format") == BUNDLE_FORMAT


def check_destination(out_dir: Path, inputs: tuple = ()) -> None:
    """Refuses destinations that an export must not replace.

    Files, symbolic links and non-bundle directories (an empty one is fine); the root, home and
    current directories and any directory containing the current one; each of `inputs` (the model
    file) and any directory containing one.
    """
    def refuse(why: str) -> None:
        raise ExportError(f"--out {out_dir}: {why}; refusing to replace it (choose a new or empty directory)")

    real = _realish(Path(out_dir).absolute())
    if real == Path(real.anchor):
        refuse("is the root directory")
    if real == _realish(Path.home()):
        refuse("is your home directory")
    cwd = _realish(Path.cwd())
    if real == cwd:
        refuse("is the current directory")
    if real in cwd.parents:
        refuse("contains the current directory")
    for item in inputs:
        real_input = _realish(Path(item).absolute())
        if real == real_input:
            refuse(f"is the input {item}")
        if real in real_input.parents:
            refuse(f"contains the input {item}")
    try:
        if not out_dir.exists() and not out_dir.is_symlink():
            return
        if out_dir.is_symlink() or not out_dir.is_dir():
            refuse("exists and is not a directory")
        if any(out_dir.iterdir()) and not is_bundle_dir(out_dir):
            refuse(f'exists and is not a keras-bridge bundle (no {MANIFEST_FILE} with "format": "{BUNDLE_FORMAT}")')
    except OSError as exc:
        raise ExportError(f"--out {out_dir}: cannot write the bundle: {describe_os_error(exc)}") from exc


def _realish(path: Path) -> Path:
    """`path` with symbolic links resolved as far as it exists."""
    try:
        return path.resolve()
    except OSError:
        return path


def describe_os_error(exc: OSError) -> str:
    """`EACCES on /x: Permission denied`, or the exception's text when it has no errno."""
    if exc.errno is None:
        return str(exc)
    code = errno.errorcode.get(exc.errno, str(exc.errno))
    where = f" on {exc.filename}" if exc.filename else ""
    return f"{code}{where}: {exc.strerror}; choose a location you can write to, on a disk with free space"


class Interrupted(BaseException):
    """SIGTERM or SIGHUP during an export: raised so that the temporary directory is removed."""

    def __init__(self, signum: int):
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


@contextlib.contextmanager
def signals_raise():
    """While inside, SIGTERM and SIGHUP raise Interrupted (SIGINT already raises KeyboardInterrupt).

    Only in the main thread, and only for signals still at their default action: a handler the
    caller installed is left alone.
    """
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if signum is not None and signal.getsignal(signum) is signal.SIG_DFL:
                previous[signum] = signal.signal(signum, _raise_interrupted)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _is_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def sweep_stale_temporaries(out_dir: Path) -> None:
    """Removes `.<name>.tmp-<pid>-*` / `.<name>.old-<pid>-*` of exports killed outright (no process <pid>).

    A bundle such an export had moved aside is put back when nothing took its place; the
    temporaries of a live process are never touched.
    """
    pattern = re.compile(rf"^\.{re.escape(out_dir.name)}\.(tmp|old)-(\d+)-[0-9a-f]+$")
    try:
        names = sorted(os.listdir(out_dir.parent), key=lambda n: ".old-" not in n)  # moved-aside ones first
    except OSError:
        return
    for name in names:
        match = pattern.match(name)
        if not match or _is_alive(int(match.group(2))):
            continue
        path = out_dir.parent / name
        try:
            if match.group(1) == "old" and not out_dir.exists() and not out_dir.is_symlink():
                os.rename(path, out_dir)
            else:
                shutil.rmtree(path)
        except OSError:
            pass  # swept by another export first, or not ours to remove


def _write_file(path: Path, data: bytes) -> None:
    # Names may hold folders of the bundle's own (saved_model/variables/...).
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _missing_parents(path: Path) -> list[Path]:
    """The ancestors of `path` that do not exist yet, outermost first."""
    missing = []
    for parent in path.parents:
        if parent.exists():
            break
        missing.append(parent)
    return list(reversed(missing))


def write_bundle(out_dir: Path, files: Mapping[str, bytes], inputs: tuple = ()) -> Path:
    """Writes `files` into `out_dir` atomically and returns its absolute path.

    Everything goes into a sibling `.<name>.tmp-<pid>-<random>` that is renamed onto `<name>` at
    the end. An existing bundle is moved aside (`.<name>.old-<pid>-<random>`) only once the new one
    is complete, then removed; on any failure, Ctrl-C or SIGTERM (signals_raise) the temp dir is
    removed, the old bundle is put back and parent directories this call created are removed
    again. Temporaries of exports killed outright are swept first (sweep_stale_temporaries).
    """
    out_dir = Path(out_dir).absolute()
    check_destination(out_dir, inputs)
    try:
        with signals_raise():
            return _write_bundle(out_dir, files, inputs)
    except OSError as exc:
        raise ExportError(f"--out {out_dir}: cannot write the bundle: {describe_os_error(exc)}") from exc


def _write_bundle(out_dir: Path, files: Mapping[str, bytes], inputs: tuple) -> Path:
    created_parents = _missing_parents(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temporaries(out_dir)
    # The pid tells a later export whether this temporary's writer is still alive.
    tmp_dir = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}-{secrets.token_hex(6)}"
    old_dir: Path | None = None
    try:
        tmp_dir.mkdir()
        for name, data in files.items():
            _write_file(tmp_dir / name, data)
        _fsync_dir(tmp_dir)
        check_destination(out_dir, inputs)  # it may have appeared while we computed
        if out_dir.exists():
            old_dir = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}-{secrets.token_hex(6)}"
            os.rename(out_dir, old_dir)
        try:
            os.rename(tmp_dir, out_dir)
        except BaseException:
            if old_dir is not None:
                os.rename(old_dir, out_dir)
                old_dir = None
            raise
        _fsync_dir(out_dir.parent)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        for parent in reversed(created_parents):
            try:
                parent.rmdir()
            except OSError:
                break
        raise
    if old_dir is not None:
        shutil.rmtree(old_dir, ignore_errors=True)
    return out_dir
