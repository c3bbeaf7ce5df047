"""Finding layers that Python (tf.GradientTape) cannot differentiate, before taping anything.

Each layer's call is traced with `tf.function(...).get_concrete_function(TensorSpec...)` on the
shapes of its inbound node 0, and every op type in the graph and in its function library (the
bodies of PartitionedCall, If, While, ...) is checked:

- py-function ops (`EagerPyFunc`, `PyFunc`, `PyFuncStateless`) run arbitrary Python, whose
  gradient TensorFlow does not know (EagerPyFunc even has a registered gradient, but it fails
  inside the upstream ops, e.g. ReluGrad with a shape mismatch), so they are never differentiable;
- an op with no entry in TensorFlow's gradient registry is not differentiable; ops registered as
  NotDifferentiable (Shape, random ops, ...) are fine: they have no gradient by design, and so are
  ops that cannot be on a gradient path at all: those with no outputs (AssignVariableOp) and those
  whose inputs are all integers, booleans or strings (TensorListReserve, which allocates the list a
  recurrent layer's while loop writes into from a shape and a count; StatelessRandomGetKeyCounter).
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


def _input_dtypes(node, op_def) -> list:
    """The dtypes of a node's inputs, from its op definition and its type attributes."""
    dtypes = []
    for arg in op_def.input_arg:
        if arg.type:
            dtypes.append(arg.type)
        elif arg.type_attr:
            dtypes.append(node.attr[arg.type_attr].type)
        elif arg.type_list_attr:
            dtypes.extend(node.attr[arg.type_list_attr].list.type)
    return [tf.as_dtype(d) for d in dtypes if d]


def _off_gradient_paths(node) -> bool:
    """True for an op no gradient can flow through: no outputs, or only non-float inputs."""
    from tensorflow.python.framework import op_def_registry

    op_def = op_def_registry.get(node.op)
    if op_def is None:
        return False
    if not op_def.output_arg:
        return True
    return all(d.is_integer or d.is_bool or d == tf.string for d in _input_dtypes(node, op_def))


def op_nodes(concrete_function) -> list:
    """Every node of a traced function, its nested function bodies included.

    A node may call a library function by using its name as the op type; such calls are left
    out, since the function's own nodes are in the list.
    """
    graph_def = concrete_function.graph.as_graph_def()
    functions = {function.signature.name for function in graph_def.library.function}
    nodes = list(graph_def.node)
    for function in graph_def.library.function:
        nodes.extend(function.node_def)
    return [node for node in nodes if node.op not in functions]


def non_differentiable(nodes) -> list:
    """The op types among `nodes` that Python cannot differentiate, sorted."""
    bad = set()
    for node in nodes:
        if node.op in STRUCTURAL_OPS:
            continue
        if node.op in PY_FUNCTION_OPS or not (_has_gradient(node.op) or _off_gradient_paths(node)):
            bad.add(node.op)
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
    from keras.src.backend.common import global_state

    # A trace that fails inside Layer.__call__ (e.g. TensorFlow refusing a layer name with spaces or
    # non-ASCII letters as a graph scope) leaves Keras's name scope entered: every weight path
    # created afterwards in this process would carry it. Restore the stack as it was.
    stack = list(global_state.get_global_attribute("name_scope_stack", default=[]) or [])
    try:
        concrete = trace_layer(layer)
    except Exception as exc:  # a call that only runs eagerly, shapes it refuses, ...
        global_state.set_global_attribute("name_scope_stack", stack)
        first_line = (str(exc).strip().splitlines() or [""])[0]
        return Differentiability(False, [], f"{type(exc).__name__}: {first_line}")
    bad = non_differentiable(op_nodes(concrete))
    return Differentiability(not bad, bad)
