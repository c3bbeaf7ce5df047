"""Training-mode goldens: the model called with training=True, its random draws recorded.

The same golden inputs and cotangents as the inference goldens. Random draws (Dropout masks,
GaussianNoise, ...) come from `numpy.random.default_rng([seed, TRAINING_STREAM])` through
random_draws.py and are written to the bundle, so that the TypeScript side replays them. Three
passes, each from the weights the export started with (training mode moves BatchNormalization's
moving statistics, which are restored after each pass):

1. the layer-output probe, recording the draws: outputs of every layer, and every non-trainable
   weight and any weight the pass changed, as they are after it (`weight_after_pass`: a moving
   statistic Keras left alone must stay alone in tfjs too);
2. the probe again, replaying the draws: any layer output that differs means randomness that
   keras.random did not supply (e.g. tf.random in a custom layer), and training mode is skipped
   with that reason;
3. the gradient tape over the model, replaying the draws: loss, and gradients w.r.t. the float
   inputs and trainable weights (finite differences through the same layers as in inference).

A model whose training pass draws nothing, changes no weight and computes exactly what inference
computes gets no training section (training mode is the same there), unless it has a layer whose
training behaviour one pass need not show (_reads_training).
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

from ._tf import keras, np, tf
from .goldens import (
    GoldenTensor,
    Goldens,
    _flat_numpy,
    gradient_goldens,
    layer_output_goldens,
    layer_output_probe,
    model_arguments,
    output_names,
    taped_gradients,
    trainable_weights,
)
from .layer_graph import LayerGraph, flatten_layers, weight_locations
from .manifest import is_custom
from .progress import Progress, emit
from .random_draws import RandomDraws, ReplayMismatch, UnrecordableRandomness

TRAINING_STREAM = 1  # the second seed word of the random draws' generator


@dataclass
class TrainingModeGoldens:
    tensors: list = field(default_factory=list)  # GoldenTensor: output, layer_output, weight_after_pass, grad_*
    draws: list = field(default_factory=list)  # RandomDraw
    loss: float = 0.0
    skipped: str | None = None  # why training mode could not be recorded


class WeightSnapshot:
    """Every weight's value, to put back after a pass that moved some (BatchNormalization's statistics)."""

    def __init__(self, model):
        self.locations = weight_locations(model)
        self.values = [weight.numpy() for weight, _, _ in self.locations]

    def changed(self) -> list:
        """(weight, owner, index, new value) of each weight whose value differs from the snapshot."""
        return [
            (weight, owner, index, weight.numpy())
            for (weight, owner, index), old in zip(self.locations, self.values)
            if not np.array_equal(weight.numpy(), old)
        ]

    def restore(self) -> None:
        for (weight, _, _), value in zip(self.locations, self.values):
            weight.assign(value)


def compute_training_goldens(model, graph: LayerGraph, goldens: Goldens, *, seed: int, progress: Progress = None) -> TrainingModeGoldens | None:
    """The training section's goldens, None when training mode changes nothing, or a skipped one with why."""
    snapshot = WeightSnapshot(model)
    draws = RandomDraws(model, np.random.default_rng([seed, TRAINING_STREAM]))
    locations, probe = layer_output_probe(model, graph)
    x = [tf.constant(i.array) for i in goldens.inputs]

    def forward(target) -> list:
        """One training-mode pass of `target` (the first records the draws), weights restored afterwards."""
        draws.new_pass()
        try:
            with draws.installed():
                return _flat_numpy(target(model_arguments(x), training=True))
        finally:
            snapshot.restore()

    def replaying():
        draws.new_pass()
        return draws.installed()

    try:
        draws.new_pass()
        with draws.installed():
            layer_values = _flat_numpy(probe(model_arguments(x), training=True))
        changed = snapshot.changed()
        snapshot.restore()
        varying = _first_difference(locations, layer_values, forward(probe))
        if varying is not None:
            return _skipped(
                progress,
                f"the training-mode output of layer {varying!r} differs between two passes with the same recorded "
                "draws: it draws random numbers outside keras.random (e.g. tf.random), which keras-bridge cannot record",
            )
        if not draws.draws and not changed and not _reads_training(model) and _first_difference(locations, layer_values, goldens.layer_outputs) is None:
            return None
        outputs = forward(model)
        trainable = trainable_weights(model)
        try:
            loss, grads = taped_gradients(model, goldens.inputs, goldens.cotangents, trainable, goldens.fd, 1.0, training=True, around=replaying())
            half_step = None
            if goldens.fd is not None:
                snapshot.restore()
                _, half_step = taped_gradients(model, goldens.inputs, goldens.cotangents, trainable, goldens.fd, 0.5, training=True, around=replaying())
        finally:
            snapshot.restore()
    except (UnrecordableRandomness, ReplayMismatch) as exc:
        snapshot.restore()
        return _skipped(progress, str(exc))
    except RuntimeError as exc:
        # TensorFlow refuses unseeded tf.random ops under op determinism (which the export turns on).
        snapshot.restore()
        if "Random ops require a seed" not in str(exc):
            raise
        return _skipped(progress, f"a layer draws random numbers with tf.random ({_first_line(exc)}), which keras-bridge cannot record; use keras.random")

    result = TrainingModeGoldens(draws=draws.recorded, loss=loss)
    for i, (name, array) in enumerate(zip(output_names(model), outputs)):
        result.tensors.append(GoldenTensor({"kind": "output", "index": i, "name": name}, array, array.dtype.name))
    result.tensors.extend(layer_output_goldens(locations, layer_values))
    after = {id(weight): value for weight, _, _, value in changed}
    for weight, owner, index in snapshot.locations:
        if weight.trainable and id(weight) not in after:
            continue
        record = {"kind": "weight_after_pass", "layer": owner.name, "index": index, "name": weight.name, "path": weight.path}
        result.tensors.append(GoldenTensor(record, after.get(id(weight), weight.numpy()), tf.as_dtype(weight.dtype).name))
    result.tensors.extend(gradient_goldens(model, graph, goldens.inputs, goldens.fd_layers, grads, half_step))
    emit(
        progress,
        f"training mode: {len(result.draws)} random draws recorded, {len(changed)} weights updated by the pass, loss {loss:.6g}",
    )
    return result


def _reads_training(model) -> bool:
    """Layers whose training behaviour one pass need not show, recorded even when it changed nothing:
    BatchNormalization (a frozen one computes as at inference in Keras 3, which a converted one must
    too) and custom layers whose call takes `training`."""
    for layer in flatten_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            return True
        if is_custom(type(layer)) and "training" in inspect.signature(type(layer).call).parameters:
            return True
    return False


def _first_difference(locations: list, values: list, others: list) -> str | None:
    for (layer, _), a, b in zip(locations, values, others):
        if a.shape != b.shape or not np.array_equal(a, b):
            return layer.name
    return None


def _first_line(exc: Exception) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    return next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)


def _skipped(progress: Progress, reason: str) -> TrainingModeGoldens:
    emit(progress, f"training mode not recorded: {reason}")
    return TrainingModeGoldens(skipped=reason)
