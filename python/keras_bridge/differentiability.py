"""Finding layers that Python (tf.GradientTape) cannot differentiate, before taping anything.

Each layer's call is traced with `tf.function(...).get_concrete_function(TensorSpec...)` on the
shapes of its inbound node 0, and every op type in the graph and in its function library (the
bodies of PartitionedCall, If, While, ...) is checked:

- py-function ops (`EagerPyFunc`, `PyFunc`, `PyFuncStateless`) run arbitrary Python, whose
  gradient TensorFlow does not know (EagerPyFunc even has a registered gradient, but it fails
  inside the upstream ops, e.g. ReluGrad with a shape mismatch), so they are never differentiable;
- an op with no entry in TensorFlow's gradient registry is not differentiable; ops registered as
  NotDifferentiable (Shape, random ops, ...) are fine: they have no gradient by design.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ._tf import tf
from .layer_graph import node_zero

PY_FUNCTION_OPS = frozenset({"EagerPyFunc", "PyFunc", "PyFuncStateless"})
# Graph plumbing that has no gradient entry and needs none, and function calls, which TF
# differentiates through their bodies (inspected separately: they are in the function library).
STRUCTURAL_OPS = frozenset(
    {
        "Placeholder",
        "NoOp",
        "_Arg",
        "_Retval",
        "_DeviceArg",
        "_DeviceRetval",
        "PartitionedCall",
        "StatefulPartitionedCall",
    }
)


@dataclass
class Differentiability:
    python_differentiable: bool
    non_differentiable_ops: list = field(default_factory=list)
    # Why the layer could not be traced, when it could not; it then counts as not differentiable.
    trace_failure: str | None = None


def _has_gradient(op_type: str) -> bool:
    try:
        from tensorflow.python.framework import ops as tf_ops

        tf_ops._gradient_registry.lookup(op_type)  # None for NotDifferentiable ops: fine
        return True
    except LookupError:
        return False


def op_types(concrete_function) -> set:
    """Every op type in a traced function, its nested function bodies included.

    A node may call a library function by using its name as the op type; such calls are left
    out, since the function's own ops are in the set.
    """
    graph_def = concrete_function.graph.as_graph_def()
    types = {node.op for node in graph_def.node}
    for function in graph_def.library.function:
        types.update(node.op for node in function.node_def)
    return types - {function.signature.name for function in graph_def.library.function}


def non_differentiable(types) -> list:
    """The op types among `types` that Python cannot differentiate, sorted."""
    bad = set()
    for op_type in types:
        if op_type in STRUCTURAL_OPS:
            continue
        if op_type in PY_FUNCTION_OPS or not _has_gradient(op_type):
            bad.add(op_type)
    return sorted(bad)


def trace_layer(layer):
    """The concrete function of `layer(...)` on TensorSpecs shaped like its inbound node 0."""
    node = node_zero(layer)
    symbolic = list(node.input_tensors)
    specs = [tf.TensorSpec(tuple(t.shape), tf.as_dtype(t.dtype)) for t in symbolic]

    def call(*tensors):
        mapping = {id(k): v for k, v in zip(symbolic, tensors)}
        args, kwargs = node.arguments.fill_in(mapping)
        return layer(*args, **kwargs)

    return tf.function(call).get_concrete_function(*specs)


def analyze_layer(layer) -> Differentiability:
    try:
        concrete = trace_layer(layer)
    except Exception as exc:  # a call that only runs eagerly, shapes it refuses, ...
        first_line = (str(exc).strip().splitlines() or [""])[0]
        return Differentiability(False, [], f"{type(exc).__name__}: {first_line}")
    bad = non_differentiable(op_types(concrete))
    return Differentiability(not bad, bad)
