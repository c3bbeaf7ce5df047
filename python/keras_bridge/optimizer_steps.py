"""After-training goldens: every trainable weight after N optimizer steps, per optimizer.

Each optimizer starts from the weights the export started with (restored between optimizers and
at the end) and takes `steps` steps of `optimizer.apply_gradients` on the bundle's loss,
sum_i sum(outputs[i] * cotangents[i]) with training=False (no dropout), on the golden inputs:
the same loss and gradients as the inference goldens, one batch, no shuffling. Gradients through
layers Python cannot differentiate are the exporter's finite differences, at each step; the whole
run is then repeated with half the step and the largest difference of each weight is its
`reference_error` (as for gradients); every weight depends on them after the first step.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ._tf import keras, np, tf
from .errors import ExportError
from .goldens import GoldenTensor, Goldens, taped_gradients, trainable_weights
from .layer_graph import LayerGraph, weight_locations
from .progress import Progress, emit
from .training_mode import WeightSnapshot

# name -> how the exporter builds it: Keras's own defaults except the learning rate, chosen so
# that a few steps move the weights measurably without leaving the region the goldens probe.
OPTIMIZERS = {
    "sgd": lambda: keras.optimizers.SGD(learning_rate=0.01),
    "adam": lambda: keras.optimizers.Adam(learning_rate=0.001),
}


@dataclass
class OptimizerRun:
    optimizer: str
    class_name: str
    config: dict
    losses: list  # the loss before each step
    tensors: list = field(default_factory=list)  # GoldenTensor of kind trained_weight

    def record(self) -> dict:
        return {"optimizer": self.optimizer, "class_name": self.class_name, "config": self.config, "losses": self.losses}


def check_optimizers(train_steps, optimizers) -> tuple:
    """(steps, optimizer names) as given, or an ExportError."""
    if isinstance(train_steps, bool) or not isinstance(train_steps, int) or train_steps < 0:
        raise ExportError(f"train_steps must be a non-negative integer, got {train_steps!r}")
    names = (optimizers,) if isinstance(optimizers, str) else tuple(optimizers)
    unknown = [name for name in names if name not in OPTIMIZERS]
    if unknown or not names:
        raise ExportError(f"optimizers must name some of {', '.join(OPTIMIZERS)}, got {optimizers!r}")
    return train_steps, names


def train_goldens(model, graph: LayerGraph, goldens: Goldens, *, steps: int, optimizers: tuple, progress: Progress = None) -> list:
    """One OptimizerRun per optimizer name."""
    snapshot = WeightSnapshot(model)
    trainable = trainable_weights(model)
    locations = [loc for loc in weight_locations(model) if loc[0].trainable]
    runs = []
    try:
        for name in optimizers:
            config, losses, trained = _run(model, goldens, trainable, name, steps, 1.0, snapshot)
            half_step = _run(model, goldens, trainable, name, steps, 0.5, snapshot)[2] if goldens.fd is not None else None
            optimizer = OPTIMIZERS[name]()
            run = OptimizerRun(name, type(optimizer).__name__, config, losses)
            for position, ((weight, layer, index), array) in enumerate(zip(locations, trained)):
                record = {"kind": "trained_weight", "layer": layer.name, "index": index, "name": weight.name, "path": weight.path}
                dtype = tf.as_dtype(weight.dtype).name
                # After the first step every weight has moved with the finite-difference gradients.
                if half_step is not None:
                    error = float(np.max(np.abs(array.astype(np.float64) - half_step[position].astype(np.float64)))) if array.size else 0.0
                    run.tensors.append(GoldenTensor(record, array, dtype, "finite_difference", error))
                else:
                    run.tensors.append(GoldenTensor(record, array, dtype, "autodiff", None))
            emit(progress, f"{steps} {name} steps: loss {losses[0]:.6g} -> {losses[-1]:.6g}")
            runs.append(run)
    finally:
        snapshot.restore()
    return runs


def _run(model, goldens: Goldens, trainable: list, name: str, steps: int, step_scale: float, snapshot: WeightSnapshot):
    """(optimizer config, loss before each step, trainable weights after the steps), from the snapshot's weights."""
    snapshot.restore()
    optimizer = OPTIMIZERS[name]()
    losses = []
    for _ in range(steps):
        loss, grads = taped_gradients(
            model, goldens.inputs, goldens.cotangents, trainable, goldens.fd, step_scale, watch_inputs=False
        )
        losses.append(loss)
        optimizer.apply_gradients(zip([tf.constant(g) for g in grads], trainable))
    return optimizer.get_config(), losses, [np.array(weight.numpy()) for weight in trainable]
