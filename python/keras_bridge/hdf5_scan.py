"""Refuses HDF5 weights that reach outside the model file, before Keras (h5py) reads them.

h5py reads what the file asks: a dataset's external raw storage (`/etc/hostname` at offset 0),
an external link to another HDF5 file, a virtual dataset mapping other files. Keras would load
those bytes as weights and the bundle would carry them. keras-bridge reads nothing outside the
model file: the weights (model.weights.h5 inside a .keras zip, or the legacy .h5 itself) are
walked once, links listed without being followed, and every dataset's storage and declared size
checked. The same classes the TypeScript reader refuses (docs/hostile-input.md, "HDF5").
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from .echo import quote_for_message
from .errors import ExportError

#: One dataset, and all together: the TypeScript reader's defaults (--max-entry-bytes, --max-uncompressed-bytes).
MAX_TENSOR_BYTES = 2 * 1024**3
MAX_TOTAL_BYTES = 4 * 1024**3
#: Declared bytes per stored byte of the file (compressed or unallocated datasets: a bomb).
MAX_EXPANSION_RATIO = 100
MAX_LINKS = 100_000


def check_model_weights(path: Path) -> None:
    """Checks the HDF5 weights of a .keras or legacy .h5 model file; ExportError naming file and HDF5 path."""
    import h5py

    if path.suffix == ".keras":
        with zipfile.ZipFile(path) as archive:
            if "model.weights.h5" not in archive.namelist():
                return  # Keras says what is missing
            info = archive.getinfo("model.weights.h5")
            if info.file_size > MAX_TOTAL_BYTES:
                raise ExportError(f"--model {path}: model.weights.h5 declares {info.file_size} bytes, over the {MAX_TOTAL_BYTES}-byte limit")
            data = archive.read(info)
        where, size = f"{path}: model.weights.h5", len(data)
        opened = h5py.File(io.BytesIO(data), "r")
    else:
        where, size = str(path), path.stat().st_size
        opened = h5py.File(path, "r")
    with opened as f:
        _check_tree(f, where, size)


def _check_tree(f, where: str, file_bytes: int) -> None:
    import h5py

    declared = 0
    links: list[tuple[str, object]] = []
    # visititems_links lists each link once, without following soft or external ones, and does not
    # descend into a group twice (h5py >= 3.11); stopping at MAX_LINKS bounds a huge flat file.
    f.visititems_links(lambda name, link: links.append((name, link)) if len(links) <= MAX_LINKS else True)
    if len(links) > MAX_LINKS:
        raise ExportError(f"--model {where}: more than {MAX_LINKS} HDF5 links; a Keras weights file holds a few per layer")
    seen_objects: dict[int, str] = {h5py.h5o.get_info(f.id).addr: ""}
    for name, link in links:
        if isinstance(link, h5py.ExternalLink):
            raise ExportError(
                f"--model {where}: '/{quote_for_message(name)[1:-1]}' is an HDF5 external link to "
                f"{quote_for_message(link.filename)}; keras-bridge reads nothing outside the model file. Re-save the model with Keras."
            )
        if isinstance(link, h5py.SoftLink):
            raise ExportError(f"--model {where}: '/{quote_for_message(name)[1:-1]}' is an HDF5 soft link; Keras writes none. Re-save the model with Keras.")
        target = f[name]
        # Objects are told apart by their address in the file: a second hard link reaches the same one.
        token = h5py.h5o.get_info(target.id).addr
        if token in seen_objects:
            raise ExportError(
                f"--model {where}: HDF5 object '/{quote_for_message(name)[1:-1]}' is a second link to '/{quote_for_message(seen_objects[token])[1:-1]}'; "
                "Keras writes every object once (a cycle or a shared subtree). Re-save the model with Keras."
            )
        seen_objects[token] = name
        if isinstance(target, h5py.Dataset):
            declared += _check_dataset(target, name, where)
            if declared > MAX_TOTAL_BYTES:
                raise ExportError(f"--model {where}: its datasets declare more than {MAX_TOTAL_BYTES} bytes in all (reached at '/{name}')")
    if declared > max(file_bytes * MAX_EXPANSION_RATIO, 1024 * 1024):
        raise ExportError(
            f"--model {where}: its datasets declare {declared} bytes, more than {MAX_EXPANSION_RATIO} times the file's own "
            f"{file_bytes} bytes (compressed or unallocated data: a decompression bomb?). Keras writes weights uncompressed."
        )


def _check_dataset(dataset, name: str, where: str) -> int:
    label = f"'/{quote_for_message(name)[1:-1]}'"
    if dataset.external:
        files = ", ".join(quote_for_message(str(entry[0])) for entry in dataset.external[:3])
        raise ExportError(
            f"--model {where}: dataset {label}: its data is stored in an external file ({files}; HDF5 external storage), not in "
            "the model file; keras-bridge reads nothing outside the model file. Re-save the model with Keras."
        )
    if dataset.is_virtual:
        raise ExportError(
            f"--model {where}: {label} is an HDF5 virtual dataset (its data is in other files); keras-bridge reads nothing "
            "outside the model file. Re-save the model with Keras."
        )
    count = 1
    for dim in dataset.shape or ():
        count *= int(dim)
    size = count * max(1, dataset.dtype.itemsize)
    if size > MAX_TENSOR_BYTES:
        raise ExportError(f"--model {where}: dataset {label} declares shape {list(dataset.shape)} ({size} bytes), more than the {MAX_TENSOR_BYTES}-byte limit on one tensor")
    return size
