"""Reading a bundle back, independently of keras_bridge's writer (the tests' own reader)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DTYPES = {"float32": "<f4", "float64": "<f8", "int32": "<i4", "int64": "<i8", "bool": "bool",
          "uint8": "u1", "int8": "i1", "uint16": "<u2", "int16": "<i2"}
BUNDLE_FILES = {"manifest.json", "model.keras.json", "weights.bin", "goldens.bin"}


def unpack(data: bytes, record: dict) -> np.ndarray:
    dtype = np.dtype(DTYPES[record["dtype"]])
    count = int(np.prod(record["shape"], dtype=np.int64))
    assert record["byte_length"] == count * dtype.itemsize, record
    raw = data[record["offset"] : record["offset"] + record["byte_length"]]
    assert len(raw) == record["byte_length"], record
    return np.frombuffer(raw, dtype=dtype).reshape(record["shape"])


@dataclass
class Bundle:
    path: Path
    manifest: dict
    manifest_text: str
    config: dict
    weights_bin: bytes
    goldens_bin: bytes

    @property
    def tensors(self) -> list:
        return self.manifest["goldens"]["tensors"]

    def records(self, kind: str, **match) -> list:
        return [
            t for t in self.tensors if t["kind"] == kind and all(t.get(k) == v for k, v in match.items())
        ]

    def record(self, kind: str, **match) -> dict:
        found = self.records(kind, **match)
        assert len(found) == 1, (kind, match, found)
        return found[0]

    def golden(self, kind: str, **match) -> np.ndarray:
        return unpack(self.goldens_bin, self.record(kind, **match))

    def goldens(self, kind: str) -> list:
        return [unpack(self.goldens_bin, t) for t in self.records(kind)]

    def weights(self) -> list:
        return [unpack(self.weights_bin, w) for w in self.manifest["weights"]]


def read_bundle(path) -> Bundle:
    path = Path(path)
    manifest_text = (path / "manifest.json").read_text(encoding="utf-8")
    return Bundle(
        path=path,
        manifest=json.loads(manifest_text),
        manifest_text=manifest_text,
        config=json.loads((path / "model.keras.json").read_text(encoding="utf-8")),
        weights_bin=(path / "weights.bin").read_bytes(),
        goldens_bin=(path / "goldens.bin").read_bytes(),
    )


def leftovers(directory: Path) -> list:
    """Temp or moved-aside directories an export may have left next to its bundle."""
    return sorted(p.name for p in Path(directory).iterdir() if ".tmp-" in p.name or ".old-" in p.name)
