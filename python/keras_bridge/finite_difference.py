"""Vector-Jacobian products by central finite differences, for layers the tape cannot differentiate.

While `FiniteDifferenceLayers.installed()` is active, each listed layer's `call` is replaced by a
`tf.custom_gradient` whose forward pass is the layer's own call and whose backward pass computes,
for every element x_i of the layer's float inputs (and of its trainable weights),

    g_i = sum_k sum(v_k * (f_k(x + h e_i) - f_k(x - h e_i))) / (2h),   h = step * max(1, |x_i|)

in float64, v being the upstream gradient. One GradientTape over the whole model then carries
the chain rule through these layers, so weights upstream of them get gradients too.

f is evaluated on a float64 clone of the layer (from_config with dtype float64, same weights)
when the clone reproduces the layer's output, else on the layer itself. The `evaluated_dtype` is
the dtype f's outputs come back in (a py_function with Tout=float32 stays float32 in a float64
clone), and the relative step is cbrt(machine epsilon) of that dtype. The denominator is the
step actually taken once x +- h is rounded to the dtype f is fed, so it is exact in float64.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from ._tf import np, tf
from .errors import ExportError
from .layer_calls import wrapped_calls
from .progress import Progress, emit

SCHEME = "central"
ARITHMETIC_DTYPE = "float64"


def relative_step_for(dtype) -> float:
    """cbrt(machine epsilon): the step that balances truncation and rounding error."""
    return float(np.cbrt(np.finfo(np.dtype(dtype)).eps))


def _is_float(value) -> bool:
    dtype = getattr(value, "dtype", None)
    return dtype is not None and tf.as_dtype(dtype).is_floating


def _backing_variable(weight):
    """The tf.Variable a Keras variable reads from (what custom_gradient reports as read)."""
    value = getattr(weight, "value", None)
    return value if isinstance(value, tf.Variable) else weight


def _stop_recording():
    """Keeps the outer tape from recording the probe evaluation (it is not part of the loss)."""
    try:
        from tensorflow.python.eager import record

        return record.stop_recording()
    except (ImportError, AttributeError):  # harmless without it: the probe is not on the loss path
        return contextlib.nullcontext()


def _to_float64(values) -> list:
    return [np.asarray(v, dtype=np.float64) for v in values]


@dataclass
class _Leaves:
    """A call's (args, kwargs) split into tensor leaves and the structure around them."""

    structure: tuple
    flat: list
    positions: list  # indexes in `flat` of tensor leaves

    @classmethod
    def split(cls, args, kwargs) -> "_Leaves":
        structure = (tuple(args), dict(kwargs))
        flat = tf.nest.flatten(structure)
        positions = [i for i, v in enumerate(flat) if tf.is_tensor(v)]
        return cls(structure, flat, positions)

    @property
    def tensors(self) -> list:
        return [self.flat[i] for i in self.positions]

    def rebuild(self, tensors):
        flat = list(self.flat)
        for position, tensor in zip(self.positions, tensors):
            flat[position] = tensor
        args, kwargs = tf.nest.pack_sequence_as(self.structure, flat)
        return args, kwargs


class _Evaluator:
    """Evaluates the layer's call at given tensor leaves (and weight values), in float64 out."""

    def __init__(self, layer, call, weights: list, description: str):
        self.layer = layer
        self._call = call
        self._weights = weights  # the evaluated object's variables, aligned with layer.weights
        self._baseline = [w.numpy() for w in weights]
        self.description = description
        self.output_dtype = None

    def feed_dtype(self, leaf_dtype):
        """The numpy dtype a float input leaf is fed to the call in."""
        return np.dtype(leaf_dtype)

    def weight_dtype(self, index):
        return np.dtype(self._weights[index].dtype)

    def __call__(self, leaves: _Leaves, values: list, weight_override=None) -> list:
        tensors = []
        for original, value in zip(leaves.tensors, values):
            if _is_float(original):
                dtype = self.feed_dtype(original.dtype.as_numpy_dtype)
                tensors.append(tf.constant(np.asarray(value, dtype=dtype)))
            else:
                tensors.append(original)
        if weight_override is not None:
            index, value = weight_override
            self._weights[index].assign(np.asarray(value, dtype=self.weight_dtype(index)))
        try:
            args, kwargs = leaves.rebuild(tensors)
            outputs = tf.nest.flatten(self._call(*args, **kwargs))
        finally:
            if weight_override is not None:
                self._weights[index].assign(self._baseline[index])
        self.output_dtype = tf.as_dtype(outputs[0].dtype).name if outputs else None
        return [np.asarray(o.numpy(), dtype=np.float64) for o in outputs]


class _Float64CloneEvaluator(_Evaluator):
    def feed_dtype(self, leaf_dtype):
        return np.dtype(np.float64)


def _float64_clone(layer):
    """A float64 copy of `layer` with its weights, or None when Keras cannot make one."""
    try:
        config = layer.get_config()
        config["dtype"] = "float64"
        clone = type(layer).from_config(config)
        build_config = layer.get_build_config()
        if build_config is not None:
            clone.build_from_config(build_config)
        if len(clone.weights) != len(layer.weights):
            return None
        for mine, theirs in zip(layer.weights, clone.weights):
            if tuple(mine.shape) != tuple(theirs.shape):
                return None
            theirs.assign(np.asarray(mine.numpy(), dtype=np.dtype(theirs.dtype)))
        return clone
    except Exception:
        return None


def _matches(reference: list, candidate: list) -> bool:
    if len(reference) != len(candidate):
        return False
    for ref, cand in zip(reference, candidate):
        if ref.shape != cand.shape:
            return False
        scale = 1.0 + (float(np.max(np.abs(ref))) if ref.size else 0.0)
        if ref.size and not np.max(np.abs(ref - cand)) <= 1e-4 * scale:
            return False
    return True


@dataclass
class _LayerState:
    evaluator: _Evaluator
    evaluations: int = 0


@dataclass
class FiniteDifferenceLayers:
    """Finite-difference backward passes for `layers`, installed with `installed(step_scale)`."""

    layers: list
    progress: Progress = None
    _states: dict = field(default_factory=dict)  # layer name -> _LayerState
    _step_scale: float = 1.0

    # ----- what the manifest records -------------------------------------------------------
    @property
    def evaluated_dtype(self) -> str | None:
        """The least precise dtype any layer's outputs came back in (it sets the step)."""
        dtypes = {s.evaluator.output_dtype for s in self._states.values() if s.evaluator.output_dtype}
        if not dtypes:
            return None
        return max(dtypes, key=lambda d: np.finfo(np.dtype(d)).eps)

    @property
    def relative_step(self) -> float | None:
        dtype = self.evaluated_dtype
        return None if dtype is None else relative_step_for(dtype)

    def settings(self) -> dict | None:
        if not self.layers:
            return None
        return {
            "scheme": SCHEME,
            "arithmetic_dtype": ARITHMETIC_DTYPE,
            "evaluated_dtype": self.evaluated_dtype,
            "relative_step": self.relative_step,
        }

    # ----- installing the wrappers ---------------------------------------------------------
    @contextlib.contextmanager
    def installed(self, step_scale: float = 1.0):
        """Wraps each layer's call for the duration; the original call is always restored."""
        self._step_scale = step_scale
        with wrapped_calls(self.layers, lambda layer, call: self._wrap(layer, call)):
            yield self

    def _evaluator(self, layer, call, leaves: _Leaves, outputs) -> _Evaluator:
        state = self._states.get(layer.name)
        if state is None:
            reference = _to_float64([o.numpy() for o in tf.nest.flatten(outputs)])
            values = _to_float64([t.numpy() for t in leaves.tensors])
            evaluator = None
            clone = _float64_clone(layer)
            if clone is not None:
                candidate = _Float64CloneEvaluator(layer, clone.call, list(clone.weights), "a float64 clone")
                try:
                    if _matches(reference, candidate(leaves, values)):
                        evaluator = candidate
                except Exception:
                    evaluator = None
            if evaluator is None:
                evaluator = _Evaluator(layer, call, list(layer.weights), "the layer itself")
                evaluator(leaves, values)  # records output_dtype
            state = self._states[layer.name] = _LayerState(evaluator)
        return state.evaluator

    def _wrap(self, layer, call):
        fd = self

        def call_with_finite_difference_gradient(*args, **kwargs):
            leaves = _Leaves.split(args, kwargs)
            weight_index = {id(_backing_variable(w)): i for i, w in enumerate(layer.weights)}

            @tf.custom_gradient
            def forward(*tensors):
                call_args, call_kwargs = leaves.rebuild(tensors)
                outputs = call(*call_args, **call_kwargs)

                def backward(*upstream, variables=None):
                    values = _to_float64([t.numpy() for t in tensors])
                    cotangents = [
                        np.zeros(o.shape, np.float64) if u is None else np.asarray(u.numpy(), np.float64)
                        for o, u in zip(tf.nest.flatten(outputs), upstream)
                    ]
                    return fd._backward(layer, leaves, tensors, values, cotangents, variables or [], weight_index)

                return outputs, backward

            outputs = forward(*leaves.tensors)
            with _stop_recording():
                fd._evaluator(layer, call, leaves, outputs)
            return outputs

        return call_with_finite_difference_gradient

    # ----- the backward pass ---------------------------------------------------------------
    def _backward(self, layer, leaves, tensors, values, cotangents, variables, weight_index):
        state = self._states[layer.name]
        evaluator = state.evaluator
        step = self.relative_step * self._step_scale
        count = 0

        def directional(plus, minus) -> float:
            return float(sum(np.sum(v * (p - m)) for v, p, m in zip(cotangents, plus, minus)))

        input_grads = []
        for position, tensor in enumerate(tensors):
            if not _is_float(tensor):
                input_grads.append(None)
                continue
            feed = evaluator.feed_dtype(tensor.dtype.as_numpy_dtype)
            grad = _central_differences(values[position], feed, step, directional, lambda: evaluator(leaves, values))
            count += 2 * grad.size
            input_grads.append(tf.constant(grad.astype(tensor.dtype.as_numpy_dtype)))

        variable_grads = []
        for variable in variables:
            index = weight_index.get(id(variable))
            if index is None:
                raise ExportError(
                    f"layer {layer.name!r} reads variable {variable.name!r}, which is not one of its "
                    "weights; finite differences cannot perturb it"
                )
            if not layer.weights[index].trainable:
                variable_grads.append(None)
                continue
            feed = evaluator.weight_dtype(index)
            base = np.asarray(layer.weights[index].numpy(), np.float64)
            point = base.copy()
            grad = _central_differences(
                point, feed, step, directional, lambda: evaluator(leaves, values, weight_override=(index, point))
            )
            count += 2 * grad.size
            variable_grads.append(tf.constant(grad.astype(np.dtype(variable.dtype.as_numpy_dtype))))

        state.evaluations += count
        emit(
            self.progress,
            f"finite differences for {layer.name}: {count} evaluations "
            f"(relative step {step:.3g}, {evaluator.output_dtype} outputs from {evaluator.description})",
        )
        if variables:
            return input_grads, variable_grads
        return input_grads


def _central_differences(point, feed_dtype, step, directional, evaluate):
    """v . df/dx_i for every element x_i of `point`, perturbed in place and restored.

    h = step * max(1, |x_i|); the denominator is the step actually taken once x_i +- h is
    rounded to the dtype the layer is fed, which is the same formula in exact arithmetic.
    """
    grad = np.zeros(point.shape, np.float64)
    for idx in np.ndindex(point.shape):
        x = point[idx]
        h = step * max(1.0, abs(x))
        x_plus = float(np.asarray(x + h, feed_dtype))
        x_minus = float(np.asarray(x - h, feed_dtype))
        point[idx] = x_plus
        f_plus = evaluate()
        point[idx] = x_minus
        f_minus = evaluate()
        point[idx] = x
        grad[idx] = directional(f_plus, f_minus) / (x_plus - x_minus)
    return grad
