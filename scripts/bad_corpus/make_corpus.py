"""Writes the bad-input corpus: broken and hostile model files, each with what keras-bridge must do.

    .venv/bin/python scripts/bad_corpus/make_corpus.py OUT_DIR

OUT_DIR/cases.json lists every case: its file, the command to run (`convert`, and `export` for the
code-execution shapes), the exit code and a regular expression the message must match, and the
marker file an executed payload would leave. test/e2e/bad-corpus.test.ts generates the corpus
into a temporary directory and runs every case through the CLI, asserting the exit code, the
message, the time and memory bounds, and that nothing is written or left behind
(docs/hostile-input.md). Nothing here is committed but this script: the bombs are built small
(a 1 GiB config.json deflates to 1 MB) and every file is rebuilt from a model Keras saves here.

Each case is one class of damage or attack applied to an intact base file that converts (the
`baseline` cases must pass): the change is the only cause of the error.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import struct
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import h5py  # noqa: E402
import numpy as np  # noqa: E402

import cve_shapes  # noqa: E402

GiB = 1024**3


class Corpus:
    def __init__(self, out: Path):
        self.out = out
        self.cases: list[dict] = []
        self.marker = out / "MARKER"

    def add(self, name: str, category: str, file: Path, message: str, exit: int = 2, commands=("convert",), args=(), stdout: str | None = None):
        self.cases.append({
            "name": name,
            "category": category,
            "file": str(file.relative_to(self.out)),
            "commands": list(commands),
            "args": list(args),
            "exit": exit,
            "message": message,
            **({"stdout": stdout} if stdout else {}),
        })

    def path(self, name: str) -> Path:
        return self.out / name


# --- base files ------------------------------------------------------------------------------------


def base_models(out: Path) -> dict[str, Path]:
    """An intact Sequential and Functional model, as .keras and as legacy .h5: every case edits one."""
    import keras

    keras.utils.set_random_seed(0)
    sequential = keras.Sequential([keras.Input((4,), name="features"), keras.layers.Dense(3, name="dense"), keras.layers.Dense(2, name="head")], name="base")
    a = keras.Input((4,), name="a")
    b = keras.Input((4,), name="b")
    merged = keras.layers.Add(name="add")([keras.layers.Dense(3, name="left")(a), keras.layers.Dense(3, name="right")(b)])
    functional = keras.Model([a, b], keras.layers.Dense(2, name="out")(merged), name="two_branch")
    paths = {
        "seq.keras": out / "base" / "seq.keras",
        "fun.keras": out / "base" / "fun.keras",
        "seq.h5": out / "base" / "seq.h5",
        "fun.h5": out / "base" / "fun.h5",
    }
    paths["seq.keras"].parent.mkdir(parents=True, exist_ok=True)
    sequential.save(paths["seq.keras"])
    functional.save(paths["fun.keras"])
    sequential.save(paths["seq.h5"])
    functional.save(paths["fun.h5"])
    return paths


def read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def write_zip(path: Path, entries: dict[str, bytes], compression=zipfile.ZIP_STORED) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path


def edit_keras_config(base: Path, target: Path, edit) -> Path:
    entries = read_zip(base)
    config = json.loads(entries["config.json"])
    replaced = edit(config)
    text = replaced if replaced is not None else json.dumps(config)
    entries["config.json"] = text.encode() if isinstance(text, str) else text
    return write_zip(target, entries, zipfile.ZIP_DEFLATED)


def edit_h5_config(base: Path, target: Path, edit) -> Path:
    shutil.copyfile(base, target)
    with h5py.File(target, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        replaced = edit(config)
        f.attrs["model_config"] = replaced if replaced is not None else json.dumps(config)
    return target


def edit_config(base: Path, target: Path, edit) -> Path:
    return (edit_keras_config if base.suffix == ".keras" else edit_h5_config)(base, target, edit)


def first_dataset(f: h5py.File) -> str:
    found: list[str] = []
    f.visititems(lambda name, obj: found.append(name) if isinstance(obj, h5py.Dataset) and not found else None)
    return found[0]


def edit_weights(base: Path, target: Path, edit) -> Path:
    """`edit(h5file, first_dataset_path)` on the model's HDF5 weights: model.weights.h5 of a .keras, or the .h5 itself."""
    if base.suffix == ".h5":
        shutil.copyfile(base, target)
        with h5py.File(target, "r+") as f:
            edit(f, first_dataset(f))
        return target
    entries = read_zip(base)
    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "w.h5"
        weights.write_bytes(entries["model.weights.h5"])
        with h5py.File(weights, "r+") as f:
            edit(f, first_dataset(f))
        entries["model.weights.h5"] = weights.read_bytes()
    return write_zip(target, entries)


def layers_of(config: dict) -> list:
    return config["config"]["layers"]


def named(config: dict, name: str) -> dict:
    return next(layer for layer in layers_of(config) if layer["config"]["name"] == name)


# --- HDF5: nothing outside the file, bounded structure ---------------------------------------------


def replace_dataset(f: h5py.File, path: str, **create):
    old = f[path]
    shape, dtype = old.shape, old.dtype
    del f[path]
    f.create_dataset(path, shape=create.pop("shape", shape), dtype=create.pop("dtype", dtype), **create)


def hdf5_cases(c: Corpus, bases: dict[str, Path]) -> None:
    outside = "keras-bridge reads nothing outside the model file|stored in an external file"
    edits = {
        "external-storage": (lambda f, p: replace_dataset(f, p, external=[("/etc/hostname", 0, int(np.prod(f[p].shape)) * 4)]), r"external (file|storage)"),
        "external-storage-relative": (lambda f, p: replace_dataset(f, p, external=[("../../etc/passwd", 0, int(np.prod(f[p].shape)) * 4)]), r"external (file|storage)"),
        "external-storage-tty": (lambda f, p: replace_dataset(f, p, external=[("/dev/tty", 0, int(np.prod(f[p].shape)) * 4)]), r"external (file|storage)"),
        "external-link": (lambda f, p: (f.__delitem__(p), f.__setitem__(p, h5py.ExternalLink("/etc/passwd.h5", "/x"))), r"external link to '/etc/passwd\.h5'"),
        "external-link-self-name": (lambda f, p: (f.__delitem__(p), f.__setitem__(p, h5py.ExternalLink("weights.h5", "/"))), r"external link"),
        "soft-link": (lambda f, p: (f.__delitem__(p), f.__setitem__(p, h5py.SoftLink("/" + p))), r"soft link"),
        "virtual-dataset": (lambda f, p: virtual(f, p), r"virtual dataset"),
        "group-links-to-itself": (lambda f, p: f[p].parent.__setitem__("loop", f[p].parent), r"second link to"),
        "group-links-to-root": (lambda f, p: f[p].parent.__setitem__("root", f["/"]), r"second link to '/"),
        "shared-subtree": (lambda f, p: shared(f), r"second link to"),
        "gzip-bomb": (lambda f, p: f.create_dataset("bomb", shape=(500_000_000,), dtype="f4", chunks=(1_000_000,), compression="gzip", fillvalue=0), r"more than 100 times the file's own|decompression bomb|limit"),
        "declared-4TiB": (lambda f, p: f.create_dataset("huge", shape=(2**40,), dtype="f4"), r"more than the \d+-byte limit on one tensor"),
        "string-weights": (lambda f, p: replace_dataset(f, p, dtype=h5py.string_dtype(), shape=(2,)), r"not a weight type|did not read"),
        "big-endian": (lambda f, p: replace_dataset(f, p, dtype=">f4"), r"big-endian"),
        "weight-shape-mismatch": (lambda f, p: replace_dataset(f, p, shape=(7, 7)), r"shape \[7, 7\]"),
    }
    # What reaches outside the file, loops or inflates is checked by export too (python/keras_bridge/hdf5_scan.py).
    both = {"external-storage", "external-storage-relative", "external-storage-tty", "external-link", "external-link-self-name",
            "soft-link", "virtual-dataset", "group-links-to-itself", "group-links-to-root", "shared-subtree", "gzip-bomb", "declared-4TiB"}
    for base in ("seq.keras", "seq.h5"):
        kind = base.split(".")[1]
        for name, (edit, message) in edits.items():
            file = edit_weights(bases[base], c.path(f"hdf5/{name}.{kind}"), edit)
            commands = ("convert", "export") if name in both else ("convert",)
            c.add(f"hdf5 {name} ({kind})", "hdf5", file, message if name not in ("external-link", "virtual-dataset") else f"{message}.*({outside})", commands=commands)
    # A weights entry that is not HDF5 at all, and one cut short.
    entries = read_zip(bases["seq.keras"])
    c.add("hdf5 not-hdf5 (keras)", "hdf5", write_zip(c.path("hdf5/not-hdf5.keras"), {**entries, "model.weights.h5": b"not an hdf5 file" * 100}), r"not a readable HDF5 file")
    c.add("hdf5 truncated (keras)", "hdf5", write_zip(c.path("hdf5/truncated.keras"), {**entries, "model.weights.h5": entries["model.weights.h5"][:3000]}), r"not a readable HDF5 file|cannot be read|truncated")
    h5 = bases["seq.h5"].read_bytes()
    c.path("hdf5/truncated.h5").write_bytes(h5[: len(h5) // 2])
    c.add("hdf5 truncated (h5)", "hdf5", c.path("hdf5/truncated.h5"), r"not a readable HDF5 file|cannot be read|truncated")


def virtual(f: h5py.File, path: str) -> None:
    shape = f[path].shape
    del f[path]
    layout = h5py.VirtualLayout(shape=shape, dtype="f4")
    layout[...] = h5py.VirtualSource("/etc/secret.h5", "x", shape=shape)
    f.create_virtual_dataset(path, layout)


def shared(f: h5py.File) -> None:
    group = f.create_group("shared_a")
    group.create_dataset("x", data=np.zeros(2, "f4"))
    f["shared_b"] = group


# --- weight values ---------------------------------------------------------------------------------


def value_cases(c: Corpus, bases: dict[str, Path]) -> None:
    for base in ("seq.keras", "seq.h5"):
        kind = base.split(".")[1]

        def nan(f, p):
            data = f[p][...]
            data.flat[0] = np.nan
            data.flat[-1] = np.inf
            f[p][...] = data

        file = edit_weights(bases[base], c.path(f"values/nan.{kind}"), nan)
        c.add(f"values nan-inf warned ({kind})", "values", file, r"^$", exit=0, stdout=r"warning: .*layer 'dense', weight '[^']+' holds 1 NaN and 1 infinite values")
        c.add(f"values nan-inf refused ({kind})", "values", file, r"layer 'dense', weight '[^']+' holds 1 NaN and 1 infinite values.*refused \(--refuse-non-finite-weights\)", args=["--refuse-non-finite-weights"])

        def int64(f, p):
            data = np.round(f[p][...] * 10).astype("int64")
            replace_dataset(f, p, dtype="int64")
            f[p][...] = data

        file = edit_weights(bases[base], c.path(f"values/int64.{kind}"), int64)
        c.add(f"values int64 kernel cast ({kind})", "values", file, r"^$", exit=0, stdout=r"changed from int64 to float32|int64 → float32|int64.*float32")


# --- zip archives ----------------------------------------------------------------------------------


def deflate_zeros(size: int) -> bytes:
    """Raw deflate of `size` zero bytes, built a chunk at a time (never holding `size` bytes)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(16 * 1024 * 1024)
    parts = []
    for _ in range(size // len(chunk)):
        parts.append(compressor.compress(chunk))
    parts.append(compressor.compress(bytes(size % len(chunk))))
    parts.append(compressor.flush())
    return b"".join(parts)


def raw_zip(entries: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip from (name, stored data, method, uncompressed size, crc) tuples, written by hand."""
    local = io.BytesIO()
    central = io.BytesIO()
    for name, data, method, size, crc in entries:
        offset = local.tell()
        encoded = name.encode()
        local.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(data), size, len(encoded), 0) + encoded + data)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, len(data), size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
    directory = central.getvalue()
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), local.tell(), 0)
    return local.getvalue() + directory + end


def zip_cases(c: Corpus, bases: dict[str, Path]) -> None:
    entries = read_zip(bases["seq.keras"])
    config, weights = entries["config.json"], entries["model.weights.h5"]
    crc = zlib.crc32

    bomb = deflate_zeros(1 * GiB)
    c.path("zip").mkdir(parents=True, exist_ok=True)
    c.path("zip/config-bomb-declared.keras").write_bytes(raw_zip([("config.json", bomb, 8, 1 * GiB, 0), ("model.weights.h5", weights, 0, len(weights), crc(weights))]))
    c.add("zip config.json bomb, declared", "zip", c.path("zip/config-bomb-declared.keras"), r"config\.json.*(limit|more than)")
    c.path("zip/config-bomb-lying.keras").write_bytes(raw_zip([("config.json", bomb, 8, len(config), crc(config)), ("model.weights.h5", weights, 0, len(weights), crc(weights))]))
    c.add("zip config.json bomb, declared small", "zip", c.path("zip/config-bomb-lying.keras"), r"config\.json.*(inflates|more than|declared|ratio|limit)")
    big = deflate_zeros(3 * GiB)
    c.path("zip/weights-bomb.keras").write_bytes(raw_zip([("config.json", config, 0, len(config), crc(config)), ("model.weights.h5", big, 8, 3 * GiB, 0)]))
    c.add("zip weights bomb 3 GiB", "zip", c.path("zip/weights-bomb.keras"), r"model\.weights\.h5.*(limit|more than|ratio)")
    c.path("zip/weights-bomb-lying.keras").write_bytes(raw_zip([("config.json", config, 0, len(config), crc(config)), ("model.weights.h5", big, 8, len(weights), crc(weights))]))
    c.add("zip weights bomb declared small", "zip", c.path("zip/weights-bomb-lying.keras"), r"model\.weights\.h5.*(inflates|more than|declared|ratio|limit)")
    many = {f"junk/{i}": b"" for i in range(20_000)}
    c.add("zip 20000 entries", "zip", write_zip(c.path("zip/many-entries.keras"), {**entries, **many}), r"entries")

    good = bases["seq.keras"].read_bytes()
    at = good.find(weights) + len(weights) // 2
    flipped = bytearray(good)
    flipped[at] ^= 0x01
    c.path("zip/flipped-byte.keras").write_bytes(flipped)
    c.add("zip flipped weight byte", "zip", c.path("zip/flipped-byte.keras"), r"CRC-32")

    zip64 = io.BytesIO()
    with zipfile.ZipFile(zip64, "w") as archive:
        for name, data in entries.items():
            with archive.open(name, "w", force_zip64=True) as handle:
                handle.write(data)
    data64 = bytearray(zip64.getvalue())
    data64[data64.find(weights[:64]) + 100] ^= 0x01
    c.path("zip/zip64-flipped.keras").write_bytes(data64)
    c.add("zip zip64 entries, flipped byte", "zip", c.path("zip/zip64-flipped.keras"), r"CRC-32")

    counts = bytearray(good)
    end = counts.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", counts, end + 8, 2, 2)  # three entries, two counted
    c.path("zip/count-mismatch.keras").write_bytes(counts)
    c.add("zip end-record entry count disagrees", "zip", c.path("zip/count-mismatch.keras"), r"entr(y|ies)|central directory")

    renamed = bytearray(good)
    local = renamed.find(b"PK\x03\x04" + renamed[4:4])  # first local header
    name_at = renamed.find(b"config.json", local)
    renamed[name_at : name_at + 11] = b"CONFIG.json"
    c.path("zip/local-name-mismatch.keras").write_bytes(renamed)
    c.add("zip local header name disagrees", "zip", c.path("zip/local-name-mismatch.keras"), r"local header|name")

    encrypted = bytearray(good)
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := encrypted.find(signature, start)) >= 0:
            encrypted[start + flag_at] |= 0x01
            start += 4
    c.path("zip/encrypted.keras").write_bytes(encrypted)
    c.add("zip encryption flag on plain data", "zip", c.path("zip/encrypted.keras"), r"encrypt")

    c.path("zip/bzip2-method.keras").write_bytes(raw_zip([("config.json", config, 12, len(config), crc(config)), ("model.weights.h5", weights, 0, len(weights), crc(weights))]))
    c.add("zip unsupported compression method", "zip", c.path("zip/bzip2-method.keras"), r"compression method|method 12")
    c.path("zip/truncated.keras").write_bytes(good[: len(good) // 2])
    c.add("zip truncated", "zip", c.path("zip/truncated.keras"), r"not a readable \.keras|truncated|end of central directory|end record")
    c.path("zip/empty.keras").write_bytes(b"")
    c.add("zip empty file", "zip", c.path("zip/empty.keras"), r"neither a \.keras file|empty")
    c.path("zip/duplicate.keras").write_bytes(raw_zip([("config.json", config, 0, len(config), crc(config)), ("config.json", b"{}", 0, 2, crc(b"{}")), ("model.weights.h5", weights, 0, len(weights), crc(weights))]))
    c.add("zip duplicate entry name", "zip", c.path("zip/duplicate.keras"), r"twice|duplicate")
    c.add("zip no config.json", "zip", write_zip(c.path("zip/no-config.keras"), {"model.weights.h5": weights}), r"has no 'config\.json'")
    c.add("zip no weights", "zip", write_zip(c.path("zip/no-weights.keras"), {"config.json": config}), r"has no 'model\.weights\.h5'")
    c.add("zip config not JSON", "zip", write_zip(c.path("zip/config-not-json.keras"), {**entries, "config.json": b'{"module": "keras", '}), r"config\.json: not valid JSON")
    c.add("zip metadata from Keras 2", "zip", write_zip(c.path("zip/keras2-metadata.keras"), {**entries, "metadata.json": b'{"keras_version": "2.15.0"}'}), r"written by Keras 2\.15\.0")

    h5 = bases["seq.h5"].read_bytes()
    c.path("zip/hdf5-then-zip.h5").write_bytes(h5 + good)
    c.add("polyglot HDF5 with a zip appended", "zip", c.path("zip/hdf5-then-zip.h5"), r"both an HDF5 file and a zip archive", commands=("convert", "export"))
    padded = bytearray(good)
    c.path("zip/zip-with-hdf5-at-512.keras").write_bytes(bytes(write_zip_with_leading_entry(entries, h5)))
    c.add("polyglot zip with HDF5 signature at 512", "zip", c.path("zip/zip-with-hdf5-at-512.keras"), r"both an HDF5 file and a zip archive")
    del padded


def write_zip_with_leading_entry(entries: dict[str, bytes], h5: bytes) -> bytes:
    """A zip whose first stored entry puts an HDF5 file at byte 512: both formats at once."""
    name = "pad"
    header = 30 + len(name)
    pad = b"\0" * (512 - header)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo(name), pad + h5)
        for entry, data in entries.items():
            archive.writestr(entry, data)
    data = buffer.getvalue()
    # ZipInfo writes no extra field: the entry's data starts at 30 + len(name).
    assert data[512:520] == b"\x89HDF\r\n\x1a\n", "HDF5 signature not at 512"
    return data


# --- configs: bounded, acyclic, no prototype keys ---------------------------------------------------


def config_cases(c: Corpus, bases: dict[str, Path]) -> None:
    def deep(config):
        # A 10,000-deep list, written as text (json.dumps would itself recurse too deep).
        named(config, "dense")["config"]["extra"] = "DEEP"
        return json.dumps(config).replace('"DEEP"', "[" * 10_000 + "]" * 10_000)

    def proto(config):
        return json.dumps(config).replace('"trainable"', '"__proto__"', 1)

    def constructor_class(config):
        named(config, "dense")["class_name"] = "constructor"

    def long_string(config):
        # Random: a repeated character would be caught first, as a compression bomb.
        named(config, "dense")["config"]["note"] = os.urandom(1024 * 1024).hex()

    def escape_name(config):
        # The name is echoed by the error (the units no longer match the kernel): escaped, never acting.
        layer = named(config, "dense")
        layer["config"]["name"] = "dense\x1b[2J\x1b]0;owned\x07"
        layer["config"]["units"] = 5

    def huge_units(config):
        named(config, "dense")["config"]["units"] = 200_000_000

    def huge_input(config):
        for layer in layers_of(config):
            if layer["class_name"] == "InputLayer":
                layer["config"]["batch_shape"] = [None, 10**12]
        config["config"].pop("build_input_shape", None)

    def layers_not_list(config):
        config["config"]["layers"] = {"a": 1}

    def not_a_model(config):
        config["class_name"] = "Dense"

    def null_config(config):
        return "null"

    common = {
        "deep-nesting": (deep, r"nested deeper than|nested too deeply"),
        "proto-key": (proto, r"__proto__"),
        "constructor-class-name": (constructor_class, r"constructor"),
        "2MB-string": (long_string, r"string of \d+ characters"),
        "escape-sequence-name": (escape_name, r"'dense\\u001b\[2J\\u001b\]0;owned\\u0007"),
        "units-2e8": (huge_units, r"creates weight '[^']+' of shape \[\d+, 200000000\]|more than the \d+ bytes of weights"),
        "input-dim-1e12": (huge_input, r"creates weight '[^']+' of shape \[1000000000000, 3\]|more than the \d+ bytes of weights"),
        "layers-not-a-list": (layers_not_list, r"layers"),
        "top-level-not-a-model": (not_a_model, r"not a Sequential or functional model|top-level"),
        "config-null": (null_config, r"serialized-object|not a|object"),
    }
    add_config_edits(c, bases, "config", "seq", common)

    def inbound(config, layer_name):
        return named(config, layer_name)["inbound_nodes"][0]["args"]

    def history(tensor):
        return tensor["config"]["keras_history"]

    def cycle(config):
        history(inbound(config, "left")[0])[0] = "out"

    def self_cycle(config):
        history(inbound(config, "add")[0][0])[0] = "add"

    def missing_layer(config):
        history(inbound(config, "left")[0])[0] = "no_such_layer"

    def bad_node(config):
        history(inbound(config, "out")[0])[1] = 7

    def negative_node(config):
        history(inbound(config, "out")[0])[1] = -1

    def duplicate_names(config):
        named(config, "right")["config"]["name"] = "left"
        for layer in layers_of(config):
            for node in layer.get("inbound_nodes", []):
                for tensor in json_tensors(node):
                    if history(tensor)[0] == "right":
                        history(tensor)[0] = "left"

    def output_unknown(config):
        outputs = config["config"]["output_layers"]
        (outputs if isinstance(outputs[0], str) else outputs[0])[0] = "nowhere"

    def input_bad_node(config):
        inputs = config["config"]["input_layers"]
        (inputs if isinstance(inputs[0], str) else inputs[0])[1] = 3

    graph = {
        "inbound-cycle": (cycle, r"cycle"),
        "inbound-self-cycle": (self_cycle, r"cycle"),
        "inbound-missing-layer": (missing_layer, r"no_such_layer"),
        "inbound-bad-node-index": (bad_node, r"node index 7"),
        "inbound-negative-node-index": (negative_node, r"node index -1"),
        "duplicate-layer-names": (duplicate_names, r"'left'|'right'"),
        "output-unknown-layer": (output_unknown, r"nowhere"),
        "input-bad-node-index": (input_bad_node, r"node index 3|input"),
    }
    add_config_edits(c, bases, "graph", "fun", graph)


def add_config_edits(c: Corpus, bases: dict[str, Path], category: str, base: str, edits: dict) -> None:
    """One case per config edit, applied to the base model's .keras and legacy .h5 files alike."""
    for kind in ("keras", "h5"):
        for name, (edit, message) in edits.items():
            file = edit_config(bases[f"{base}.{kind}"], c.path(f"{category}/{name}.{kind}"), edit)
            c.add(f"{category} {name} ({kind})", category, file, message)


def json_tensors(node) -> list:
    found, stack = [], [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("class_name") == "__keras_tensor__":
                found.append(item)
            else:
                stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


# --- code in configs: the CVE shapes, for convert and export ---------------------------------------


def code_cases(c: Corpus) -> None:
    out = c.path("code")
    for cve, shapes in cve_shapes.CODE_SHAPES.items():
        for shape in shapes:
            file = shape(out, c.marker)
            c.add(f"{cve} {shape.__name__}", "code", file, r"keras-bridge: error: ", commands=("convert", "export"))


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "bad-corpus").resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    corpus = Corpus(out)
    bases = base_models(out)
    for name in ("seq.keras", "fun.keras", "seq.h5", "fun.h5"):
        corpus.add(f"baseline {name}", "baseline", bases[name], r"^$", exit=0)
    hdf5_cases(corpus, bases)
    value_cases(corpus, bases)
    zip_cases(corpus, bases)
    config_cases(corpus, bases)
    code_cases(corpus)
    (out / "cases.json").write_text(json.dumps({"marker": str(corpus.marker.relative_to(out)), "cases": corpus.cases}, indent=1) + "\n")
    print(f"{len(corpus.cases)} cases in {out}")


if __name__ == "__main__":
    main()
