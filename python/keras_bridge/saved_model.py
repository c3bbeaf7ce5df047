"""The model as a TensorFlow SavedModel in the bundle (export --saved-model), for Node users who run
it as one native graph (tfjs-node's loadSavedModel) instead of the converted layers model op by op:
parity's native-graph mode checks its outputs against the same goldens (docs/native-graph.md).

It is Keras's own export (keras.export.ExportArchive), with two endpoints:
- `serve`, whose inputs are named as the bundle names the model's inputs and whose outputs are
  `output_0`, `output_1`, ... in the model's output order;
- `gradients` (gradients_endpoint.py): the same outputs, and the gradients of the goldens' loss
  (each float output times its cotangent) with respect to the float inputs and every trainable weight,
  the weights fed as inputs, so that a caller trains with the values it holds.
A model whose graph calls back into Python (tf.py_function, tf.numpy_function) cannot run outside
Python: no SavedModel is written, and the manifest says why. A model whose gradients cannot be
traced this way keeps `serve`; the record says why it has no `gradients`.
"""
import os
import re
import tempfile
from pathlib import Path

from .gradients_endpoint import GradientsEndpointError, gradients_endpoint
from .progress import emit

SAVED_MODEL_DIR = "saved_model"
ENDPOINT = "serve"
# Ops that call back into the Python interpreter that traced them.
PYTHON_OPS = {"PyFunc", "PyFuncStateless", "EagerPyFunc"}


def export_saved_model(model, input_names: list, progress=None) -> tuple[dict, dict]:
    """The SavedModel's files (bundle-relative names under saved_model/) and its manifest record."""
    import keras
    import tensorflow as tf

    specs = [
        tf.TensorSpec(shape=(None, *tuple(t.shape)[1:]), dtype=t.dtype, name=name)
        for t, name in zip(model.inputs, input_names)
    ]

    def serve(*inputs):
        outputs = model(list(inputs) if len(inputs) > 1 else inputs[0], training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return {f"output_{i}": output for i, output in enumerate(outputs)}

    try:
        traced = tf.function(serve, input_signature=specs)
        python_ops = sorted({op.type for op in traced.get_concrete_function().graph.get_operations()} & PYTHON_OPS)
        if python_ops:
            return {}, _skipped(
                f"the model's graph calls back into Python ({', '.join(python_ops)}: tf.py_function or "
                "tf.numpy_function), which a SavedModel cannot run outside Python",
                progress,
            )
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint(name=ENDPOINT, fn=traced)
        gradients = _add_gradients_endpoint(archive, model, specs, progress)
        files = _written_files(archive)
    except Exception as exc:  # noqa: BLE001 - the bundle stands without it; the manifest says why
        return {}, _skipped(f"Keras could not export the model as a SavedModel ({type(exc).__name__}: {_innermost(exc)})", progress)
    endpoints = ", ".join(f"'{name}'" for name in [ENDPOINT] + ([gradients["endpoint"]] if gradients["status"] == "exported" else []))
    emit(progress, f"saved model: {SAVED_MODEL_DIR}/ ({sum(len(b) for b in files.values())} bytes), endpoints {endpoints}")
    record = {
        "status": "exported",
        "dir": SAVED_MODEL_DIR,
        "endpoint": ENDPOINT,
        "inputs": list(input_names),
        "outputs": [f"output_{i}" for i in range(len(model.outputs))],
        "gradients": gradients,
    }
    return files, record


def _add_gradients_endpoint(archive, model, input_specs: list, progress) -> dict:
    """Adds the `gradients` endpoint to the archive; its manifest record, or why it has none."""
    try:
        fn, record = gradients_endpoint(model, input_specs)
        archive.add_endpoint(name=record["endpoint"], fn=fn)
        return record
    except GradientsEndpointError as exc:
        reason = str(exc)
    except Exception as exc:  # noqa: BLE001 - `serve` stands without it; the record says why
        reason = f"TensorFlow could not trace the model's gradients ({type(exc).__name__}: {_innermost(exc)})"
    emit(progress, f"saved model: no gradients endpoint: {reason}")
    return {"status": "skipped", "reason": reason}


def _skipped(reason: str, progress) -> dict:
    emit(progress, f"saved model: not written: {reason}")
    return {"status": "skipped", "reason": reason}


def _written_files(archive) -> dict:
    """The archive written out, as {bundle-relative name: bytes}."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / SAVED_MODEL_DIR
        archive.write_out(str(target), verbose=False)
        files = {}
        for root, _dirs, names in os.walk(target):
            for name in names:
                path = Path(root) / name
                files[f"{SAVED_MODEL_DIR}/{path.relative_to(target).as_posix()}"] = path.read_bytes()
        return files


def _innermost(exc: Exception) -> str:
    """TensorFlow's tracing errors quote the traced code's frames, then the error again: its last statement."""
    # Keras bolds parts of its messages with terminal escapes.
    text = " ".join(re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).split())
    marker = f"{type(exc).__name__}: "
    text = text[text.rfind(marker) + len(marker):] if marker in text else text
    return text.split(" Arguments received")[0][:300]
