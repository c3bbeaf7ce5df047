"""Writing a bundle: packed tensor files and the atomic temp-dir-then-rename directory write.

Nothing here imports TensorFlow: it deals in numpy arrays, bytes and JSON.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
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


def check_destination(out_dir: Path) -> None:
    """Refuses destinations that an export must not replace: files, and non-bundle directories."""
    if not out_dir.exists() and not out_dir.is_symlink():
        return
    if out_dir.is_symlink() or not out_dir.is_dir():
        raise ExportError(f"--out {out_dir}: exists and is not a directory; refusing to replace it")
    if any(out_dir.iterdir()) and not is_bundle_dir(out_dir):
        raise ExportError(
            f"--out {out_dir}: exists and is not a keras-bridge bundle (no {MANIFEST_FILE} with "
            f'"format": "{BUNDLE_FORMAT}"); refusing to replace it'
        )


def _write_file(path: Path, data: bytes) -> None:
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


def write_bundle(out_dir: Path, files: Mapping[str, bytes]) -> Path:
    """Writes `files` into `out_dir` atomically and returns its absolute path.

    Everything goes into a sibling `.<name>.tmp-<random>` that is renamed onto `<name>` at the
    end. An existing bundle is moved aside (`.<name>.old-<random>`) only once the new one is
    complete, then removed; on any failure the temp dir is removed, the old bundle is put back
    and parent directories this call created are removed again.
    """
    out_dir = Path(out_dir).absolute()
    check_destination(out_dir)
    try:
        return _write_bundle(out_dir, files)
    except OSError as exc:
        raise ExportError(f"--out {out_dir}: cannot write the bundle: {exc}") from exc


def _write_bundle(out_dir: Path, files: Mapping[str, bytes]) -> Path:
    created_parents = _missing_parents(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = out_dir.parent / f".{out_dir.name}.tmp-{secrets.token_hex(6)}"
    old_dir: Path | None = None
    try:
        tmp_dir.mkdir()
        for name, data in files.items():
            _write_file(tmp_dir / name, data)
        _fsync_dir(tmp_dir)
        check_destination(out_dir)  # it may have appeared while we computed
        if out_dir.exists():
            old_dir = out_dir.parent / f".{out_dir.name}.old-{secrets.token_hex(6)}"
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
