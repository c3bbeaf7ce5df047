"""Random draws that another runtime can replay: what Dropout-family layers use in training mode.

While `RandomDraws.installed()` is active, Keras's backend random functions (`keras.random.*`
and what Dropout, SpatialDropout, GaussianNoise, GaussianDropout and AlphaDropout call) take
their randomness from a seeded numpy generator instead of TensorFlow's, and every draw is kept
with the layer whose call made it. The first pass records; later passes (`new_pass()`) replay
the same draws for the same (layer, call, draw) so that the probe pass, the determinism check
and the gradient pass all see one set of masks.

What is recorded is the *standard* draw, before the function's own parameters are applied:

    dropout(x, rate, noise_shape)   u ~ U[0, 1) of the noise shape; keep = u >= rate;
                                    out = where(keep, x * (1 / (1 - rate)), 0)   (as TF computes it)
    uniform(shape, minval, maxval)  u ~ U[0, 1); out = u * (maxval - minval) + minval
    normal(shape, mean, stddev)     z ~ N(0, 1); out = z * stddev + mean
    truncated_normal(...)           z ~ N(0, 1) redrawn until |z| <= 2; out = z * stddev + mean

so that the replaying side applies *its* parameters (a converted layer with a wrong rate or
stddev still differs). Other random functions (randint, shuffle, categorical, ...) raise
UnrecordableRandomness: the caller records why training mode was not exported.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from ._tf import np, tf
from .layer_calls import wrapped_calls
from .layer_graph import flatten_layers

RECORDED_FUNCTIONS = ("dropout", "uniform", "normal", "truncated_normal")
UNRECORDABLE_FUNCTIONS = ("categorical", "randint", "shuffle", "gamma", "binomial", "beta")
TRUNCATION = 2.0  # truncated_normal keeps |z| <= 2, as tf.random.truncated_normal


class UnrecordableRandomness(Exception):
    """A random draw keras-bridge cannot record (an unsupported function, or outside any layer)."""


class ReplayMismatch(Exception):
    """A replaying pass asked for a draw the recording pass did not make, or of another kind."""


@dataclass
class RandomDraw:
    layer_path: tuple  # layer names from a layer of model.layers down to the one whose call drew
    call: int  # which call of that layer within a pass (0 for a layer called once)
    index: int  # which draw within that call
    function: str  # one of RECORDED_FUNCTIONS
    parameters: dict  # rate / minval, maxval / mean, stddev: for the reader's information
    array: np.ndarray  # the standard draw (float32)

    def record(self) -> dict:
        return {
            "kind": "random_draw",
            "layer_path": list(self.layer_path),
            "call": self.call,
            "index": self.index,
            "function": self.function,
            "parameters": self.parameters,
        }


def _concrete_shape(shape) -> list:
    """A shape argument (tuple of ints, TensorShape or shape tensor) as a list of ints."""
    if tf.is_tensor(shape):
        shape = shape.numpy().tolist()
    return [int(d) for d in shape]


@dataclass
class RandomDraws:
    """Records (first pass) and replays (later passes) every random draw of a model's layers."""

    model: object
    rng: np.random.Generator
    draws: dict = field(default_factory=dict)  # (layer_path, call, index) -> RandomDraw
    _stack: list = field(default_factory=list)  # [(layer_path, call, draws made so far)]
    _calls: dict = field(default_factory=dict)  # id(layer) -> calls made in this pass

    @property
    def recorded(self) -> list:
        return list(self.draws.values())

    def new_pass(self) -> None:
        """The next model call replays the draws recorded so far (and records only new ones)."""
        self._calls.clear()
        self._stack.clear()

    @contextlib.contextmanager
    def installed(self):
        """Patches Keras's backend random functions and wraps every layer's call, then restores both."""
        from keras.src import backend

        module = backend.random
        saved_functions = {name: getattr(module, name) for name in RECORDED_FUNCTIONS + UNRECORDABLE_FUNCTIONS if hasattr(module, name)}
        try:
            for name in saved_functions:
                setattr(module, name, getattr(self, f"_{name}", None) or self._refuse(name))
            with wrapped_calls(flatten_layers(self.model), self._wrap):
                self.new_pass()
                yield self
        finally:
            for name, function in saved_functions.items():
                setattr(module, name, function)

    def _wrap(self, layer, call):
        draws = self

        def call_with_recorded_randomness(*args, **kwargs):
            parent = draws._stack[-1][0] if draws._stack else ()
            count = draws._calls.get(id(layer), 0)
            draws._calls[id(layer)] = count + 1
            draws._stack.append([parent + (layer.name,), count, 0])
            try:
                return call(*args, **kwargs)
            finally:
                draws._stack.pop()

        return call_with_recorded_randomness

    def _standard_draw(self, function: str, shape: list, parameters: dict, sample) -> np.ndarray:
        if not self._stack:
            raise UnrecordableRandomness(f"keras.random.{function} was called outside any layer's call")
        frame = self._stack[-1]
        key = (frame[0], frame[1], frame[2])
        frame[2] += 1
        existing = self.draws.get(key)
        if existing is None:
            array = np.ascontiguousarray(sample(shape), dtype=np.float32)
            self.draws[key] = RandomDraw(key[0], key[1], key[2], function, parameters, array)
            return array
        if existing.function != function or list(existing.array.shape) != shape:
            raise ReplayMismatch(
                f"layer {'/'.join(key[0])}, call {key[1]}, draw {key[2]}: replaying {existing.function} of shape "
                f"{list(existing.array.shape)} but the layer asked for {function} of shape {shape}"
            )
        return existing.array

    # ----- the patched backend functions (keras/src/backend/tensorflow/random.py's signatures) -----
    def _dropout(self, inputs, rate, noise_shape=None, seed=None):
        inputs = tf.convert_to_tensor(inputs)
        if rate == 1.0:
            return tf.zeros_like(inputs)
        if rate == 0.0:
            return inputs
        shape = [
            int(inputs.shape[i]) if d is None else int(d)
            for i, d in enumerate(noise_shape if noise_shape is not None else inputs.shape)
        ]
        u = self._standard_draw("dropout", shape, {"rate": float(rate)}, lambda s: self.rng.random(s, dtype=np.float32))
        keep = tf.constant(u) >= tf.constant(rate, tf.float32)
        scaled = inputs * (1 / (1 - rate))
        return tf.where(keep, scaled, tf.zeros_like(scaled))

    def _uniform(self, shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
        dtype = tf.as_dtype(dtype or "float32")
        if not dtype.is_floating:
            raise UnrecordableRandomness(f"keras.random.uniform with dtype {dtype.name}")
        shape = _concrete_shape(shape)
        parameters = {"minval": float(minval), "maxval": float(maxval)}
        u = self._standard_draw("uniform", shape, parameters, lambda s: self.rng.random(s, dtype=np.float32))
        return tf.cast(u, dtype) * tf.cast(maxval - minval, dtype) + tf.cast(minval, dtype)

    def _normal(self, shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
        return self._scaled_normal("normal", shape, mean, stddev, dtype, lambda s: self.rng.standard_normal(s, dtype=np.float32))

    def _truncated_normal(self, shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
        return self._scaled_normal("truncated_normal", shape, mean, stddev, dtype, self._truncated)

    def _scaled_normal(self, function, shape, mean, stddev, dtype, sample):
        dtype = tf.as_dtype(dtype or "float32")
        shape = _concrete_shape(shape)
        z = self._standard_draw(function, shape, {"mean": float(mean), "stddev": float(stddev)}, sample)
        return tf.cast(z, dtype) * tf.cast(stddev, dtype) + tf.cast(mean, dtype)

    def _truncated(self, shape) -> np.ndarray:
        z = self.rng.standard_normal(shape, dtype=np.float32)
        outside = np.abs(z) > TRUNCATION
        while outside.any():
            z[outside] = self.rng.standard_normal(int(outside.sum()), dtype=np.float32)
            outside = np.abs(z) > TRUNCATION
        return z

    @staticmethod
    def _refuse(name: str):
        def refuse(*args, **kwargs):
            raise UnrecordableRandomness(f"keras.random.{name} (keras-bridge records only {', '.join(RECORDED_FUNCTIONS)})")

        return refuse
