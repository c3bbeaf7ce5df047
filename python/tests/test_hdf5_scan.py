"""hdf5_scan: export refuses HDF5 weights that reach outside the model file, loop, or declare a bomb,
before Keras (h5py) reads a byte of them. Files built with h5py here; the corpus
(test/e2e/bad-corpus.test.ts) runs the same shapes through the CLI inside real Keras models."""
import io
import zipfile

import h5py
import numpy as np
import pytest

from keras_bridge.errors import ExportError
from keras_bridge.hdf5_scan import check_model_weights


def weights_file(tmp_path, edit, suffix=".h5"):
    path = tmp_path / f"model{suffix}"
    target = path if suffix == ".h5" else tmp_path / "w.h5"
    with h5py.File(target, "w") as f:
        f.create_dataset("layers/dense/vars/0", data=np.ones((4, 3), "f4"))
        edit(f)
    if suffix == ".keras":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("config.json", "{}")
            archive.writestr("model.weights.h5", target.read_bytes())
    return path


CASES = {
    "external storage": (lambda f: f.create_dataset("x", shape=(8,), dtype="u1", external=[("/etc/hostname", 0, 8)]), r"external file \('/etc/hostname'"),
    "external link": (lambda f: f.__setitem__("x", h5py.ExternalLink("/etc/other.h5", "/")), r"external link to '/etc/other.h5'"),
    "soft link": (lambda f: f.__setitem__("x", h5py.SoftLink("/layers")), r"soft link"),
    "cycle": (lambda f: f["layers/dense"].__setitem__("loop", f["layers"]), r"second link to '/layers'"),
    "link to root": (lambda f: f["layers"].__setitem__("root", f["/"]), r"second link to '/'"),
    "gzip bomb": (lambda f: f.create_dataset("bomb", shape=(100_000_000,), dtype="f4", chunks=(1_000_000,), compression="gzip"), r"decompression bomb"),
    "4 TiB dimension": (lambda f: f.create_dataset("huge", shape=(2**40,), dtype="f4"), r"limit on one tensor"),
}


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_refused_before_keras_reads_it(tmp_path, name, suffix):
    edit, message = CASES[name]
    with pytest.raises(ExportError, match=message):
        check_model_weights(weights_file(tmp_path, edit, suffix))


def test_virtual_dataset_refused(tmp_path):
    def edit(f):
        layout = h5py.VirtualLayout(shape=(4,), dtype="f4")
        layout[...] = h5py.VirtualSource("/etc/secret.h5", "x", shape=(4,))
        f.create_virtual_dataset("v", layout)

    with pytest.raises(ExportError, match="virtual dataset"):
        check_model_weights(weights_file(tmp_path, edit))


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_plain_weights_pass(tmp_path, suffix):
    check_model_weights(weights_file(tmp_path, lambda f: f.create_dataset("layers/other/vars/0", data=np.zeros(3, "f4")), suffix))
