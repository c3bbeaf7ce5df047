"""Goldens of dL/dy for every layer output (golden kind `grad_layer_output`, docs/bundle-format.md).

They let the parity engine backpropagate Keras's own gradient through one layer at a time, so that
a wrong backward pass is pinned to its layer. They come from the same GradientTape pass as the
other gradients: while `LayerOutputTaps.installed()` is active (entered inside the
finite-difference wrappers, so its own wrappers go around them), each layer's float outputs pass
through an identity whose tf.custom_gradient keeps what the tape sends back through it: the
gradient summed over every consumer of the tensor. The tapped tensors are exactly what downstream
layers consume, and a layer that returns its input unchanged (Dropout at inference, Identity) gets
a tensor of its own instead of sharing its producer's (whose gradient would then mix both). Each
identity also takes a read of a scalar variable, so that the tape records it even where nothing
upstream is watched (after integer inputs).

Whether a bundle gets them is a policy: "always", "never", or "auto" (the default), which
includes them when they total at most AUTO_LIMIT_BYTES or AUTO_LIMIT_WEIGHTS_FRACTION of the
model's weight bytes, whichever is larger: fixtures stay a few kB, and a model whose activations
dwarf its weights (large images) does not grow by a second copy of them.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from ._tf import keras, np, tf
from .errors import ExportError
from .layer_calls import wrapped_calls
from .layer_graph import LayerGraph, node_zero

POLICIES = ("auto", "always", "never")
AUTO_LIMIT_BYTES = 1 << 20
AUTO_LIMIT_WEIGHTS_FRACTION = 0.25


def check_policy(value) -> str:
    """`layer_gradients` as one of POLICIES: True is "always", False "never", None "auto"."""
    if value is None:
        return "auto"
    if isinstance(value, bool):
        return "always" if value else "never"
    if value in POLICIES:
        return value
    raise ExportError(f"layer_gradients must be one of {', '.join(POLICIES)} (or True/False), got {value!r}")


@dataclass(frozen=True)
class _Target:
    """One float output tensor of a layer's node 0."""

    layer: object
    index: int  # position among the outputs of the layer's node 0
    shape: tuple
    dtype: str

    @property
    def key(self) -> tuple:
        return (id(self.layer), self.index)

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize


def _weight_bytes(model) -> int:
    return sum(
        int(np.prod(w.shape, dtype=np.int64)) * np.dtype(tf.as_dtype(w.dtype).as_numpy_dtype).itemsize
        for w in model.weights
    )


def _node_zero_call(model, layer) -> int:
    """Which call of `layer`, during one run of `model`, computes its node 0.

    Keras runs a functional graph (a Sequential's too) node by node in decreasing depth
    (keras.src.ops.function.Function._run_through_graph): a shared layer's node 0 may run later.
    """
    functional = getattr(model, "_functional", None) or model
    by_depth = getattr(functional, "_nodes_by_depth", None) or {}
    order = [node for depth in sorted(by_depth, reverse=True) for node in by_depth[depth]]
    calls = [node for node in order if node.operation is layer and not node.is_input]
    zero = node_zero(layer)
    return next((i for i, node in enumerate(calls) if node is zero), 0)


def flows_through(graph: LayerGraph, fd_layers: list) -> set:
    """ids of the layers whose output gradient flows through a finite-difference layer."""
    upstream: set = set()
    for layer in fd_layers:
        upstream |= graph.ancestors(layer)
    return upstream


@dataclass
class LayerOutputTaps:
    """Taps every float output of every layer's node 0 for its gradient (`grad_layer_output`)."""

    graph: LayerGraph
    targets: list  # _Target, in layer order then output order; empty when not included
    policy: dict  # what the manifest records as goldens.gradients.layer_output_gradients
    _captured: dict = field(default_factory=dict)  # target key -> upstream gradient (None: none came)

    @classmethod
    def planned(cls, graph: LayerGraph, locations: list, values: list, policy: str) -> "LayerOutputTaps":
        """The taps `policy` asks for, given the layer-output goldens' (layer, index) and values.

        Input layers are left out (their gradient is the grad_input golden), and so are outputs
        that are not float (no gradient).
        """
        targets = [
            _Target(layer, index, tuple(np.shape(value)), np.asarray(value).dtype.name)
            for (layer, index), value in zip(locations, values)
            if node_zero(layer).input_tensors and np.issubdtype(np.asarray(value).dtype, np.floating)
        ]
        total = sum(t.nbytes for t in targets)
        limit = max(AUTO_LIMIT_BYTES, int(AUTO_LIMIT_WEIGHTS_FRACTION * _weight_bytes(graph.model)))
        included = policy == "always" or (policy == "auto" and total <= limit)
        record = {"policy": policy, "included": included, "bytes": total, "auto_limit_bytes": limit}
        return cls(graph, targets if included else [], record)

    @contextlib.contextmanager
    def installed(self):
        """Wraps each tapped layer's call for the duration; the previous call is always restored."""
        self._captured = {}
        anchor = tf.Variable(0.0, trainable=True, name="keras_bridge_layer_output_tap")
        wanted: dict = {}
        for target in self.targets:
            wanted.setdefault(id(target.layer), (target.layer, set()))[1].add(target.index)
        layers = [layer for layer, _ in wanted.values()]
        wrap = lambda layer, call: self._wrap(layer, call, wanted[id(layer)][1], _node_zero_call(self.graph.model, layer), anchor)  # noqa: E731
        with wrapped_calls(layers, wrap):
            yield self

    def _wrap(self, layer, call, indexes: set, call_index: int, anchor):
        taps = self
        calls = [0]

        def call_with_tapped_outputs(*args, **kwargs):
            outputs = call(*args, **kwargs)
            this_call, calls[0] = calls[0], calls[0] + 1
            if this_call != call_index:
                return outputs
            flat = keras.tree.flatten(outputs)
            for index in indexes:
                if index < len(flat):
                    flat[index] = taps._tap((id(layer), index), flat[index], anchor.read_value())
            return keras.tree.pack_sequence_as(outputs, flat)

        return call_with_tapped_outputs

    def _tap(self, key, tensor, anchor_value):
        from keras.src.backend.common.masking import get_keras_mask, set_keras_mask

        captured = self._captured

        @tf.custom_gradient
        def tap(x, anchor):
            def backward(upstream):
                captured[key] = upstream
                return upstream, tf.zeros_like(anchor)

            return tf.identity(x), backward

        tapped = tap(tensor, anchor_value)
        mask = get_keras_mask(tensor)  # a mask a layer sets inside its call (Masking) stays on its output
        if mask is not None:
            set_keras_mask(tapped, mask)
        captured.setdefault(key, None)  # computed: its gradient is zero unless the tape sends one
        return tapped

    def gradients(self) -> list:
        """dL/dy of each target in the last run, in `targets` order, as numpy arrays."""
        for target in self.targets:
            if target.key not in self._captured:
                raise ExportError(
                    f"layer {target.layer.name!r}: its output {target.index} was not computed while taping "
                    "the model; export with layer_gradients='never' (--layer-gradients never)"
                )
        return [
            np.zeros(t.shape, t.dtype) if grad is None else np.asarray(tf.convert_to_tensor(grad).numpy(), t.dtype)
            for t in self.targets
            for grad in [self._captured[t.key]]
        ]

    def goldens(self, full_step: list, half_step: list | None, fd_layers: list) -> list:
        """The grad_layer_output goldens from the gradients of a run (and of its half-step rerun)."""
        from .goldens import GoldenTensor

        through_fd = flows_through(self.graph, fd_layers)
        tensors = []
        for i, target in enumerate(self.targets):
            record = {"kind": "grad_layer_output", "layer": target.layer.name, "node": 0, "index": target.index}
            array = full_step[i]
            if target.key[0] not in through_fd:
                tensors.append(GoldenTensor(record, array, target.dtype, "autodiff", None))
                continue
            diff = np.abs(array.astype(np.float64) - half_step[i].astype(np.float64))
            error = float(np.max(diff)) if diff.size else 0.0
            tensors.append(GoldenTensor(record, array, target.dtype, "finite_difference", error))
        return tensors
