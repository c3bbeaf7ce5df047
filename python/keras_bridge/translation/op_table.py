"""The mapping table of route 1: Python callables (keras.ops, tf.*, NumPy) → keras-bridge's `kops` runtime.

Each row names the TypeScript function (src/translated/keras-ops.ts, Keras semantics on tfjs) and
its parameters in order, each with the Python parameter names it takes its value from (keras.ops's
`x`, NumPy's `a`, TensorFlow's `input_tensor` ...). A call is matched by the identity of the live
function it names, so every alias the user's module has (`from keras import ops`, `K = keras.ops`,
`tf.math.sigmoid` = `tf.sigmoid`) finds its row. A parameter the user did not pass takes the Python
function's own default (tf.nn.gelu's approximate=False, keras.ops.gelu's True); a parameter the row
does not map is a gap unless left at its default. docs/translation-table.md lists the table
(`python -m keras_bridge.translation.op_table --markdown`).
"""
from __future__ import annotations

import importlib
import inspect
import json
import sys
from dataclasses import dataclass, field

from . import values as v


@dataclass
class OpRow:
    ts: str
    python_names: list
    params: list  # [(ts param, (python names...)), ...] in the TS function's order
    kind: str = v.TENSOR
    note: str = ""
    ignored: tuple = ("name",)  # Python parameters that do not change the result
    resolved: list = field(default_factory=list)


ROWS: list[OpRow] = []


def row(ts: str, names: list, kind: str = v.TENSOR, note: str = "", ignored=("name",), **params) -> None:
    ROWS.append(OpRow(ts, names, [(k, p if isinstance(p, tuple) else (p,)) for k, p in params.items()], kind, note, tuple(ignored)))


X = ("x", "a", "input", "input_tensor", "features", "t", "logits", "tensor")


def unary(ts: str, *names: str, note: str = "") -> None:
    row(ts, list(names), note=note, x=X)


# --- elementwise, one tensor -----------------------------------------------------------------
unary("tf.sigmoid", "keras.ops.sigmoid", "tensorflow.sigmoid", "tensorflow.nn.sigmoid", "keras.activations.sigmoid")
unary("tf.tanh", "keras.ops.tanh", "tensorflow.tanh", "numpy.tanh", "keras.activations.tanh")
unary("tf.exp", "keras.ops.exp", "tensorflow.exp", "numpy.exp")
unary("tf.log", "keras.ops.log", "tensorflow.math.log", "numpy.log")
unary("tf.log1p", "keras.ops.log1p", "tensorflow.math.log1p", "numpy.log1p")
unary("tf.expm1", "keras.ops.expm1", "tensorflow.math.expm1", "numpy.expm1")
unary("tf.sqrt", "keras.ops.sqrt", "tensorflow.sqrt", "numpy.sqrt")
unary("tf.rsqrt", "keras.ops.rsqrt", "tensorflow.math.rsqrt")
unary("tf.square", "keras.ops.square", "tensorflow.square", "numpy.square")
unary("tf.abs", "keras.ops.abs", "keras.ops.absolute", "tensorflow.abs", "numpy.abs")
unary("tf.neg", "keras.ops.negative", "tensorflow.negative", "numpy.negative")
unary("tf.reciprocal", "keras.ops.reciprocal", "tensorflow.math.reciprocal", "numpy.reciprocal")
unary("tf.sin", "keras.ops.sin", "tensorflow.sin", "numpy.sin")
unary("tf.cos", "keras.ops.cos", "tensorflow.cos", "numpy.cos")
unary("tf.floor", "keras.ops.floor", "tensorflow.floor", "numpy.floor")
unary("tf.ceil", "keras.ops.ceil", "tensorflow.math.ceil", "numpy.ceil")
unary("tf.sign", "keras.ops.sign", "tensorflow.sign", "numpy.sign")
unary("tf.erf", "keras.ops.erf", "tensorflow.math.erf")
unary("tf.relu", "keras.ops.relu", "tensorflow.nn.relu", "keras.activations.relu")
unary("tf.relu6", "keras.ops.relu6", "tensorflow.nn.relu6")
unary("tf.elu", "keras.ops.elu", "tensorflow.nn.elu")
unary("tf.selu", "keras.ops.selu", "tensorflow.nn.selu", "keras.activations.selu")
unary("tf.softplus", "keras.ops.softplus", "tensorflow.nn.softplus", "tensorflow.math.softplus", "keras.activations.softplus")
unary("kops.softsign", "keras.ops.softsign", "tensorflow.nn.softsign")
unary("kops.silu", "keras.ops.silu", "keras.ops.swish", "tensorflow.nn.silu", "tensorflow.nn.swish", "keras.activations.silu")
unary("kops.hardSigmoid", "keras.ops.hard_sigmoid")
unary("tf.logicalNot", "keras.ops.logical_not", "tensorflow.logical_not", "numpy.logical_not")
unary("tf.round", "keras.ops.round", "tensorflow.round")
row("kops.gelu", ["keras.ops.gelu", "tensorflow.nn.gelu", "keras.activations.gelu"], x=X, approximate="approximate")
row("kops.leakyRelu", ["keras.ops.leaky_relu", "tensorflow.nn.leaky_relu"], x=X, alpha=("negative_slope", "alpha"))

# --- elementwise, two tensors (Keras's dtype promotion: an int tensor meets a float one as float) ---
Y = ("x2", "y", "b")
X1 = ("x1", "x", "a")
for ts, *names in [
    ("kops.add", "keras.ops.add", "tensorflow.add", "tensorflow.math.add", "numpy.add"),
    ("kops.subtract", "keras.ops.subtract", "tensorflow.subtract", "tensorflow.math.subtract", "numpy.subtract"),
    ("kops.multiply", "keras.ops.multiply", "tensorflow.multiply", "tensorflow.math.multiply", "numpy.multiply"),
    ("kops.divide", "keras.ops.divide", "keras.ops.true_divide", "tensorflow.divide", "tensorflow.math.divide", "tensorflow.math.truediv", "numpy.divide", "numpy.true_divide"),
    ("kops.power", "keras.ops.power", "tensorflow.pow", "tensorflow.math.pow", "numpy.power"),
    ("kops.maximum", "keras.ops.maximum", "tensorflow.maximum", "tensorflow.math.maximum", "numpy.maximum"),
    ("kops.minimum", "keras.ops.minimum", "tensorflow.minimum", "tensorflow.math.minimum", "numpy.minimum"),
    ("kops.floorDivide", "keras.ops.floor_divide", "tensorflow.math.floordiv", "numpy.floor_divide"),
    ("kops.mod", "keras.ops.mod", "tensorflow.math.floormod", "numpy.mod"),
    ("kops.squaredDifference", "tensorflow.math.squared_difference"),
    ("kops.equal", "keras.ops.equal", "tensorflow.equal", "tensorflow.math.equal", "numpy.equal"),
    ("kops.notEqual", "keras.ops.not_equal", "tensorflow.not_equal", "tensorflow.math.not_equal", "numpy.not_equal"),
    ("kops.greater", "keras.ops.greater", "tensorflow.greater", "tensorflow.math.greater", "numpy.greater"),
    ("kops.greaterEqual", "keras.ops.greater_equal", "tensorflow.greater_equal", "tensorflow.math.greater_equal", "numpy.greater_equal"),
    ("kops.less", "keras.ops.less", "tensorflow.less", "tensorflow.math.less", "numpy.less"),
    ("kops.lessEqual", "keras.ops.less_equal", "tensorflow.less_equal", "tensorflow.math.less_equal", "numpy.less_equal"),
    ("kops.logicalAnd", "keras.ops.logical_and", "tensorflow.logical_and", "tensorflow.math.logical_and", "numpy.logical_and"),
    ("kops.logicalOr", "keras.ops.logical_or", "tensorflow.logical_or", "tensorflow.math.logical_or", "numpy.logical_or"),
]:
    row(ts, names, x=X1, y=Y)

row("kops.matmul", ["keras.ops.matmul", "numpy.matmul", "tensorflow.matmul", "tensorflow.linalg.matmul"], x=X1, y=Y,
    transposeA="transpose_a", transposeB="transpose_b", note="batch dimensions broadcast as NumPy's matmul")
row("kops.einsum", ["keras.ops.einsum", "tensorflow.einsum", "numpy.einsum"], subscripts=("subscripts", "equation"), operands=("operands", "inputs"),
    note="one or two operands, no ellipsis; contracted through matMul so it differentiates")
row("kops.where", ["keras.ops.where", "tensorflow.where", "numpy.where"], condition="condition", x=("x1", "x"), y=("x2", "y"))
row("kops.clip", ["keras.ops.clip", "tensorflow.clip_by_value", "numpy.clip"], x=("x", "t", "a"), min=("x_min", "clip_value_min", "a_min"), max=("x_max", "clip_value_max", "a_max"))

# --- reductions and scans ------------------------------------------------------------------
R = ("x", "a", "input_tensor", "input")
for ts, *names in [
    ("kops.mean", "keras.ops.mean", "numpy.mean", "tensorflow.reduce_mean", "tensorflow.math.reduce_mean"),
    ("kops.sum", "keras.ops.sum", "numpy.sum", "tensorflow.reduce_sum", "tensorflow.math.reduce_sum"),
    ("kops.max", "keras.ops.max", "keras.ops.amax", "numpy.max", "numpy.amax", "tensorflow.reduce_max", "tensorflow.math.reduce_max"),
    ("kops.min", "keras.ops.min", "keras.ops.amin", "numpy.min", "numpy.amin", "tensorflow.reduce_min", "tensorflow.math.reduce_min"),
    ("kops.prod", "keras.ops.prod", "numpy.prod", "tensorflow.reduce_prod", "tensorflow.math.reduce_prod"),
    ("kops.variance", "keras.ops.var", "numpy.var", "tensorflow.math.reduce_variance"),
    ("kops.std", "keras.ops.std", "numpy.std", "tensorflow.math.reduce_std"),
    ("kops.logsumexp", "keras.ops.logsumexp", "tensorflow.reduce_logsumexp", "tensorflow.math.reduce_logsumexp"),
    ("kops.any", "keras.ops.any", "numpy.any", "tensorflow.reduce_any", "tensorflow.math.reduce_any"),
    ("kops.all", "keras.ops.all", "numpy.all", "tensorflow.reduce_all", "tensorflow.math.reduce_all"),
]:
    row(ts, names, x=R, axis="axis", keepdims="keepdims")
row("kops.argmax", ["keras.ops.argmax", "numpy.argmax", "tensorflow.argmax", "tensorflow.math.argmax"], x=R, axis="axis", keepdims="keepdims", ignored=("name", "output_type"))
row("kops.argmin", ["keras.ops.argmin", "numpy.argmin", "tensorflow.argmin", "tensorflow.math.argmin"], x=R, axis="axis", keepdims="keepdims", ignored=("name", "output_type"))
row("kops.cumsum", ["keras.ops.cumsum", "tensorflow.math.cumsum", "tensorflow.cumsum", "numpy.cumsum"], x=R, axis="axis", exclusive="exclusive", reverse="reverse")
row("kops.softmax", ["keras.ops.softmax", "tensorflow.nn.softmax", "tensorflow.math.softmax", "keras.activations.softmax"], x=X, axis="axis")
row("kops.logSoftmax", ["keras.ops.log_softmax", "tensorflow.nn.log_softmax"], x=X, axis="axis")
row("kops.l2Normalize", ["tensorflow.math.l2_normalize", "tensorflow.nn.l2_normalize"], x=X, axis="axis", epsilon="epsilon")
row("kops.norm", ["keras.ops.norm", "numpy.linalg.norm", "tensorflow.norm", "tensorflow.linalg.norm"], x=X, ord=("ord",), axis="axis", keepdims="keepdims")

# --- shapes and layout ----------------------------------------------------------------------
row("kops.reshape", ["keras.ops.reshape", "tensorflow.reshape", "numpy.reshape"], x=("x", "tensor", "a"), shape=("newshape", "new_shape", "shape"))
row("kops.transpose", ["keras.ops.transpose", "tensorflow.transpose", "numpy.transpose"], x=("x", "a"), axes=("axes", "perm"), ignored=("name", "conjugate"))
row("kops.expandDims", ["keras.ops.expand_dims", "tensorflow.expand_dims", "numpy.expand_dims"], x=("x", "input", "a"), axis="axis")
row("kops.squeeze", ["keras.ops.squeeze", "tensorflow.squeeze", "numpy.squeeze"], x=("x", "input", "a"), axis="axis")
row("kops.concatenate", ["keras.ops.concatenate", "tensorflow.concat", "numpy.concatenate"], xs=("xs", "values", "arrays"), axis="axis")
row("kops.stack", ["keras.ops.stack", "tensorflow.stack", "numpy.stack"], xs=("x", "values", "arrays"), axis="axis")
row("kops.split", ["keras.ops.split", "numpy.split"], x=("x", "ary"), sections="indices_or_sections", axis="axis", kind=v.SEQUENCE)
row("kops.tfSplit", ["tensorflow.split"], x="value", sizes="num_or_size_splits", axis="axis", kind=v.SEQUENCE, ignored=("name", "num"))
row("kops.unstack", ["keras.ops.unstack", "tensorflow.unstack"], x=("x", "value"), axis="axis", kind=v.SEQUENCE, ignored=("name", "num"))
row("kops.tile", ["keras.ops.tile", "tensorflow.tile", "numpy.tile"], x=("x", "input", "A"), reps=("repeats", "multiples", "reps"))
row("kops.repeat", ["keras.ops.repeat", "tensorflow.repeat", "numpy.repeat"], x=("x", "input", "a"), repeats="repeats", axis="axis")
row("kops.broadcastTo", ["keras.ops.broadcast_to", "tensorflow.broadcast_to", "numpy.broadcast_to"], x=("x", "input", "array"), shape="shape")
row("kops.sliceOp", ["keras.ops.slice", "tensorflow.slice"], x=("inputs", "input_"), start=("start_indices", "begin"), shape=("shape", "size"))
row("kops.getKerasMask", ["keras.src.backend.common.masking.get_keras_mask"], x="x",
    note="the Keras mask a tensor carries: the mask the layer received for its input, or a sub-layer's computed mask for its output")
row("kops.setKerasMask", ["keras.src.backend.common.masking.set_keras_mask"], kind=v.NONE, x="x", mask="mask")
row("kops.moveaxis", ["keras.ops.moveaxis", "numpy.moveaxis"], x=("x", "a"), source="source", destination="destination")
row("kops.initializer", ["keras.initializers.get"], kind="initializer", identifier="identifier",
    note="the initializer as Keras serializes it (a name or {class_name, config}): it only matters to weights trained from scratch")
row("kops.initializer", ["keras.regularizers.get", "keras.constraints.get"], kind="initializer", identifier="identifier",
    note="kept as Keras serializes it; a regularizer only adds a training loss, which parity does not compare")
row("kops.flip", ["keras.ops.flip", "numpy.flip"], x=("x", "m"), axis="axis")
row("kops.reverse", ["tensorflow.reverse"], x="tensor", axis="axis")
row("kops.pad", ["keras.ops.pad", "tensorflow.pad", "numpy.pad"], x=("x", "tensor", "array"), padding=("pad_width", "paddings"), mode="mode", value=("constant_values",))
row("kops.cast", ["keras.ops.cast", "tensorflow.cast"], x=("x",), dtype="dtype")
row("kops.zerosLike", ["keras.ops.zeros_like", "tensorflow.zeros_like", "numpy.zeros_like"], x=("x", "input", "a"), dtype="dtype")
row("kops.onesLike", ["keras.ops.ones_like", "tensorflow.ones_like", "numpy.ones_like"], x=("x", "input", "a"), dtype="dtype")
row("kops.zeros", ["keras.ops.zeros", "tensorflow.zeros"], shape="shape", dtype="dtype")
row("kops.ones", ["keras.ops.ones", "tensorflow.ones"], shape="shape", dtype="dtype")
row("kops.arange", ["keras.ops.arange", "numpy.arange"], start="start", stop="stop", step="step", dtype="dtype")
row("kops.tfRange", ["tensorflow.range"], start="start", limit="limit", delta="delta", dtype="dtype")
row("kops.oneHot", ["keras.ops.one_hot"], x="x", depth=("num_classes",), axis="axis", dtype="dtype", ignored=("name", "sparse"))
row("kops.tfOneHot", ["tensorflow.one_hot"], x="indices", depth="depth", on="on_value", off="off_value", axis="axis", dtype="dtype")
row("kops.take", ["keras.ops.take", "numpy.take"], x=("x", "a"), indices="indices", axis="axis")
row("kops.gather", ["tensorflow.gather"], x="params", indices="indices", axis="axis", batchDims="batch_dims", ignored=("name", "validate_indices"))
row("kops.triu", ["keras.ops.triu", "numpy.triu"], x=("x", "m"), k="k")
row("kops.tril", ["keras.ops.tril", "numpy.tril"], x=("x", "m"), k="k")

# --- shapes as values: tfjs runs eagerly, so a shape is known when call() runs ---------------
row("kops.shapeOf", ["keras.ops.shape", "tensorflow.shape", "numpy.shape"], x=("x", "input", "a"), kind=v.SHAPE, ignored=("name", "out_type"),
    note="a number[] (tfjs is eager: the shape is concrete when call() runs)")
row("kops.rankOf", ["keras.ops.ndim", "tensorflow.rank", "numpy.ndim"], x=("x", "input", "a"), kind=v.NUMBER)
row("kops.sizeOf", ["keras.ops.size", "tensorflow.size", "numpy.size"], x=("x", "input", "a"), kind=v.NUMBER, ignored=("name", "out_type"))
row("kops.stopGradient", ["keras.ops.stop_gradient", "tensorflow.stop_gradient"], x=("variable", "input"))
row("kops.convertToTensor", ["keras.ops.convert_to_tensor", "tensorflow.convert_to_tensor", "tensorflow.constant", "numpy.asarray", "numpy.array"], x=("x", "value", "a", "object"), dtype="dtype",
    ignored=("name", "sparse", "ragged", "dtype_hint", "shape", "verify_shape", "copy", "order", "like", "ndmin"))


# --- activations looked up by name, random draws (replayed by training-mode parity) -----------
row("kops.activation", ["keras.activations.get"], kind="function", identifier="identifier",
    note="a function tensor → tensor, by Keras activation name (None: linear)")
row("kops.seedGenerator", ["keras.random.SeedGenerator"], kind="seed", ignored=("name", "seed", "kwargs"),
    note="no state in TypeScript: draws come from keras-bridge's replayable `random`")
row("kops.randomUniform", ["keras.random.uniform"], shape="shape", minval="minval", maxval="maxval", ignored=("name", "seed", "dtype"),
    note="through `random` (src/training/replayable-random.ts): training-mode parity replays Keras's draws")
row("kops.randomNormal", ["keras.random.normal"], shape="shape", mean="mean", stddev="stddev", ignored=("name", "seed", "dtype"))
row("kops.randomDropout", ["keras.random.dropout"], x="inputs", rate="rate", noiseShape="noise_shape", ignored=("name", "seed"))


def _resolve(qualified: str):
    parts = qualified.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr, None)
            if obj is None:
                return None
        return obj
    return None


_BY_ID: dict | None = None


def find_row(fn):
    """The row for a live callable, by identity; None when the table has none."""
    global _BY_ID
    if _BY_ID is None:
        _BY_ID = {}
        for r in ROWS:
            for name in r.python_names:
                obj = _resolve(name)
                if obj is not None:
                    _BY_ID.setdefault(id(obj), (r, name, obj))
    hit = _BY_ID.get(id(fn))
    return (hit[0], hit[1]) if hit else (None, None)


def table_records() -> list:
    return [{"ts": r.ts, "python": r.python_names, "params": [p for p, _ in r.params], "note": r.note} for r in ROWS]


def markdown() -> str:
    lines = ["| TypeScript (src/translated/keras-ops.ts) | Python callables | notes |", "|---|---|---|"]
    for r in ROWS:
        lines.append(f"| `{r.ts}({', '.join(p for p, _ in r.params)})` | {', '.join(f'`{n}`' for n in r.python_names)} | {r.note} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown() if "--markdown" in sys.argv else json.dumps(table_records(), indent=1))
