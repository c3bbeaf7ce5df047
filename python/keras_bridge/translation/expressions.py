"""Python expressions → TypeScript, by kind: tensor arithmetic through `kops` (Keras semantics on
tfjs), static values (shapes, config fields, numbers) as plain TypeScript with Python's meaning."""
from __future__ import annotations

import ast
import builtins
import inspect
import math
import types

from .._tf import keras, tf
from . import values as v
from .class_context import ClassContext, is_builtin_keras_class, is_initializer_class, is_keras_layer_class, kind_of_live
from .gaps import TranslationGap
from .names import local_name, ts_string
from .op_table import find_row

TENSOR_BINARY = {
    ast.Add: "kops.add", ast.Sub: "kops.subtract", ast.Mult: "kops.multiply", ast.Div: "kops.divide",
    ast.Pow: "kops.power", ast.MatMult: "kops.matmul", ast.FloorDiv: "kops.floorDivide", ast.Mod: "kops.mod",
    ast.BitAnd: "kops.logicalAnd", ast.BitOr: "kops.logicalOr",
}
TENSOR_COMPARE = {
    ast.Gt: "kops.greater", ast.GtE: "kops.greaterEqual", ast.Lt: "kops.less", ast.LtE: "kops.lessEqual",
    ast.Eq: "kops.equal", ast.NotEq: "kops.notEqual",
}
STATIC_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.BitAnd: "&", ast.BitOr: "|", ast.LShift: "<<", ast.RShift: ">>"}
STATIC_COMPARE = {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "===", ast.NotEq: "!==", ast.Is: "===", ast.IsNot: "!=="}
# Python functions that call Python at run time: never translated, named as such.
SCRIPT_OPS_MESSAGE = "runs Python at call time; it has no TypeScript translation (write a TypeScript twin and register it)"
TFJS_DTYPES = {"float32": "float32", "float64": "float32", "float16": "float32", "bfloat16": "float32", "int32": "int32", "int64": "int32", "int16": "int32", "int8": "int32", "uint8": "int32", "bool": "bool"}


def _python_literal(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if math.isnan(value):
            return "NaN"
        return repr(value)
    if isinstance(value, str):
        return ts_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_python_literal(x) for x in value) + "]"
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return "{ " + ", ".join(f"{ts_string(k)}: {_python_literal(x)}" for k, x in value.items()) + " }"
    raise ValueError(f"{type(value).__name__} value has no TypeScript literal")


def literal(value) -> v.Value:
    if isinstance(value, (list, tuple)):
        items = [literal(x) for x in value]
        return v.Value(_python_literal(value), v.SEQUENCE, items=items, python=value)
    return v.Value(_python_literal(value), v.kind_of_python(value), python=value)


class ExpressionTranslator:
    """Translates expressions inside one method; `scope` maps Python local names to Values."""

    def __init__(self, context: ClassContext):
        self.context = context
        self.scope: dict = {}
        self.self_name = "self"
        self.training: v.Value | None = None

    # --- entry --------------------------------------------------------------------------------
    def expr(self, node: ast.AST) -> v.Value:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise TranslationGap(node, f"Python {type(node).__name__} expressions are not translated")
        return method(node)

    def tensor_or_static(self, node) -> v.Value:
        return self.expr(node)

    # --- atoms ------------------------------------------------------------------------------
    def _Constant(self, node: ast.Constant) -> v.Value:
        if node.value is Ellipsis:
            return v.Value("'...'", v.ELLIPSIS)
        try:
            return literal(node.value)
        except ValueError as exc:
            raise TranslationGap(node, str(exc)) from exc

    def _Name(self, node: ast.Name) -> v.Value:
        if node.id in self.scope:
            if self.scope[node.id].kind == "poisoned":
                raise TranslationGap(node, f"'{node.id}' comes from a statement that was not translated", secondary=True)
            return self.scope[node.id]
        if node.id == self.self_name:
            return v.Value("this", "self")
        if node.id in self.context.class_constants:
            return self.expr(self.context.class_constants[node.id])
        found, obj = self.context.lookup_global(node.id)
        if not found:
            raise TranslationGap(node, f"name '{node.id}' is not defined where the class is")
        return self.object_value(node, obj)

    def object_value(self, node, obj) -> v.Value:
        """A module-level object: constants become literals, anything else is kept for calls and attributes."""
        if isinstance(obj, (bool, int, float, str, type(None))) or (isinstance(obj, (tuple, list)) and all(isinstance(x, (bool, int, float, str)) for x in obj)):
            return literal(obj)
        return v.Value("", "object", python=obj)

    def _Attribute(self, node: ast.Attribute) -> v.Value:
        base = self.expr(node.value)
        attr = node.attr
        if base.kind == "self":
            return self.self_attribute(node, attr)
        if base.kind == "object":
            if isinstance(base.python, types.ModuleType) or isinstance(base.python, type):
                if not hasattr(base.python, attr):
                    raise TranslationGap(node, f"{getattr(base.python, '__name__', '?')} has no attribute '{attr}'")
                return self.object_value(node, getattr(base.python, attr))
            raise TranslationGap(node, f"attribute '{attr}' of a {type(base.python).__name__} object")
        if base.is_tensor:
            code = self.read(base)
            if attr == "shape":
                return v.Value(f"{code}.shape", v.SHAPE)
            if attr == "ndim":
                return v.Value(f"{code}.rank", v.NUMBER)
            if attr == "dtype":
                return v.Value(f"{code}.dtype", v.STRING)
            if attr == "T":
                return v.tensor(f"kops.transpose({code})")
            raise TranslationGap(node, f"tensor attribute '.{attr}' is not translated")
        if base.kind == v.LAYER:
            if attr == "supports_masking":
                return v.Value(f"{base.code}.supportsMasking", v.BOOL)
            if attr in ("kernel", "bias", "gamma", "beta", "embeddings"):
                return v.Value(f"kops.layerWeight({base.code}, {ts_string(attr)})", v.TENSOR)
            if attr in ("units", "filters", "output_dim", "input_dim"):
                return v.Value(f"kops.layerField({base.code}, {ts_string(attr)}) as number", v.NUMBER)
        raise TranslationGap(node, f"attribute '.{attr}' of a {base.kind} value is not translated")

    def self_attribute(self, node, attr: str) -> v.Value:
        ctx = self.context
        if attr in ("compute_dtype", "variable_dtype", "dtype", "dtype_policy"):
            return v.Value("'float32'", v.STRING, python="float32")
        if attr == "supports_masking":
            return v.Value("this.supportsMasking", v.BOOL)
        if attr == "name":
            return v.Value("this.name", v.STRING)
        if attr in ctx.methods:
            return v.Value(f"this.{local_name(attr)}", "method", python=attr)
        kind = ctx.kind_of_attribute(attr)
        code = f"this.{ctx.attribute_name(attr)}"
        if kind == v.UNKNOWN:
            raise TranslationGap(node, f"self.{attr}: the translator cannot tell what it holds (not set on the exported instance)")
        found, live = ctx.live_attribute(attr)
        value = v.Value(code, kind, python=live if found else None)
        if kind == v.SEQUENCE and found and live and all(isinstance(x, keras.layers.Layer) for x in live):
            value.element = v.LAYER
        return value

    def read(self, value: v.Value) -> str:
        return f"{value.code}.read()" if value.kind == v.WEIGHT else value.code

    def as_tensor_code(self, value: v.Value, node) -> str:
        if value.kind == v.WEIGHT:
            return f"{value.code}.read()"
        if value.kind in (v.TENSOR, v.NUMBER, v.BOOL):
            return value.code
        if value.kind == v.SEQUENCE:
            return value.code
        raise TranslationGap(node, f"a {value.kind} value used as a tensor")

    # --- containers -------------------------------------------------------------------------
    def _Tuple(self, node) -> v.Value:
        items = [self.expr(e) for e in node.elts]
        for e, item in zip(node.elts, items):
            if isinstance(e, ast.Starred):
                raise TranslationGap(node, "starred elements are not translated")
        kinds = {i.kind for i in items}
        return v.Value("[" + ", ".join(self.read(i) if i.kind == v.WEIGHT else i.code for i in items) + "]", v.SEQUENCE, items=items, element=kinds.pop() if len(kinds) == 1 else None)

    _List = _Tuple

    def _Dict(self, node: ast.Dict) -> v.Value:
        parts = []
        for k, value in zip(node.keys, node.values):
            if k is None:
                parts.append(f"...{self.expr(value).code}")
                continue
            key = self.expr(k)
            if key.kind != v.STRING:
                raise TranslationGap(node, "dict keys other than strings are not translated")
            parts.append(f"{key.code}: {self.expr(value).code}")
        return v.Value("{ " + ", ".join(parts) + " }", v.DICT)

    def _Starred(self, node) -> v.Value:
        raise TranslationGap(node, "starred arguments are not translated")

    def _JoinedStr(self, node: ast.JoinedStr) -> v.Value:
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value).replace("`", "\\`").replace("${", "\\${"))
            else:
                parts.append("${" + self.expr(value.value).code + "}")
        return v.Value("`" + "".join(parts) + "`", v.STRING)

    # --- operators --------------------------------------------------------------------------
    def _BinOp(self, node: ast.BinOp) -> v.Value:
        left, right = self.expr(node.left), self.expr(node.right)
        op = type(node.op)
        if left.is_tensor or right.is_tensor:
            fn = TENSOR_BINARY.get(op)
            if fn is None:
                raise TranslationGap(node, f"operator {type(node.op).__name__} on tensors is not translated")
            return v.tensor(f"{fn}({self.as_tensor_code(left, node)}, {self.as_tensor_code(right, node)})")
        if left.kind == v.SEQUENCE or right.kind == v.SEQUENCE or left.kind == v.SHAPE or right.kind == v.SHAPE:
            if op is ast.Add:
                return v.Value(f"[...{left.code}, ...{right.code}]", v.SEQUENCE if left.kind == v.SEQUENCE else v.SHAPE)
            if op is ast.Mult:
                return v.Value(f"py.repeatList({left.code}, {right.code})", v.SEQUENCE)
            raise TranslationGap(node, "this operator on a tuple or list is not translated")
        if left.kind == v.STRING and op is ast.Add:
            return v.Value(f"{left.code} + {right.code}", v.STRING)
        if op is ast.FloorDiv:
            return v.number(f"py.floorDiv({left.code}, {right.code})")
        if op is ast.Mod:
            return v.number(f"py.mod({left.code}, {right.code})")
        symbol = STATIC_BINARY.get(op)
        if symbol is None:
            raise TranslationGap(node, f"operator {op.__name__} is not translated")
        return v.number(f"({left.code} {symbol} {right.code})")

    def _UnaryOp(self, node: ast.UnaryOp) -> v.Value:
        operand = self.expr(node.operand)
        if operand.is_tensor:
            if isinstance(node.op, ast.USub):
                return v.tensor(f"tf.neg({self.read(operand)})")
            if isinstance(node.op, ast.UAdd):
                return operand
            if isinstance(node.op, ast.Invert):
                return v.tensor(f"tf.logicalNot({self.read(operand)})")
            raise TranslationGap(node, "`not` on a tensor is a Python branch on its value")
        if isinstance(node.op, ast.Not):
            return v.Value(f"!py.truthy({operand.code})", v.BOOL)
        if isinstance(node.op, ast.USub):
            return v.Value(f"-{operand.code}", v.NUMBER, python=-operand.python if isinstance(operand.python, (int, float)) else None)
        if isinstance(node.op, ast.UAdd):
            return operand
        raise TranslationGap(node, "bitwise inversion of a number is not translated")

    def _Compare(self, node: ast.Compare) -> v.Value:
        left = self.expr(node.left)
        if len(node.ops) == 1:
            right = self.expr(node.comparators[0])
            op = type(node.ops[0])
            if op in (ast.Is, ast.IsNot):
                null_check = right.kind == v.NONE or left.kind == v.NONE
                symbol = "==" if op is ast.Is else "!="
                if null_check:
                    return v.Value(f"({left.code} {symbol} null)", v.BOOL)
            if (left.is_tensor or right.is_tensor) and op in TENSOR_COMPARE:
                return v.tensor(f"{TENSOR_COMPARE[op]}({self.as_tensor_code(left, node)}, {self.as_tensor_code(right, node)})")
            if op in (ast.In, ast.NotIn):
                code = f"py.contains({right.code}, {left.code})"
                return v.Value(code if op is ast.In else f"!{code}", v.BOOL)
            if left.kind in (v.SHAPE, v.SEQUENCE) or right.kind in (v.SHAPE, v.SEQUENCE):
                code = f"py.equal({left.code}, {right.code})"
                if op is ast.Eq:
                    return v.Value(code, v.BOOL)
                if op is ast.NotEq:
                    return v.Value(f"!{code}", v.BOOL)
        parts, previous = [], left
        for op, comparator in zip(node.ops, node.comparators):
            right = self.expr(comparator)
            if previous.is_tensor or right.is_tensor:
                raise TranslationGap(node, "a chained comparison of tensors is not translated")
            symbol = STATIC_COMPARE.get(type(op))
            if symbol is None:
                raise TranslationGap(node, f"comparison {type(op).__name__} is not translated")
            parts.append(f"{previous.code} {symbol} {right.code}")
            previous = right
        return v.Value("(" + " && ".join(parts) + ")", v.BOOL)

    def _BoolOp(self, node: ast.BoolOp) -> v.Value:
        values = [self.expr(x) for x in node.values]
        if any(x.is_tensor for x in values):
            raise TranslationGap(node, "`and`/`or` on tensors is a Python branch on their values (use ops.logical_and)")
        symbol = " && " if isinstance(node.op, ast.And) else " || "
        kinds = {x.kind for x in values}
        return v.Value("(" + symbol.join(x.code for x in values) + ")", kinds.pop() if len(kinds) == 1 else v.UNKNOWN)

    def _IfExp(self, node: ast.IfExp) -> v.Value:
        test = self.expr(node.test)
        if test.is_tensor:
            raise TranslationGap(node, "a conditional expression on a tensor's value is a Python branch (use ops.where)")
        body, orelse = self.expr(node.body), self.expr(node.orelse)
        kinds = {body.kind, orelse.kind}
        if kinds == {v.LAYER, v.NONE}:
            # `Layer(...) if flag else None`: an optional sub-layer.
            return v.Value(f"(py.truthy({test.code}) ? {self.read(body)} : {self.read(orelse)})", v.LAYER, meta={"nullable": True})
        kind = body.kind if body.kind == orelse.kind else (v.TENSOR if body.is_tensor or orelse.is_tensor else v.UNKNOWN)
        return v.Value(f"(py.truthy({test.code}) ? {self.read(body)} : {self.read(orelse)})", kind)

    # --- indexing ---------------------------------------------------------------------------
    def _Subscript(self, node: ast.Subscript) -> v.Value:
        base = self.expr(node.value)
        if base.is_tensor:
            keys = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            specs = [self.index_spec(k) for k in keys]
            return v.tensor(f"kops.getItem({self.read(base)}, [{', '.join(specs)}])")
        if base.kind in (v.SHAPE, v.SEQUENCE):
            if isinstance(node.slice, ast.Slice):
                lower, upper, step = (self.static(p, node).code if p is not None else "null" for p in (node.slice.lower, node.slice.upper, node.slice.step))
                return v.Value(f"py.sliceList({base.code}, {lower}, {upper}, {step})", base.kind, element=base.element)
            index = self.static(node.slice, node)
            if base.items is not None and isinstance(index.python, int) and -len(base.items) <= index.python < len(base.items):
                return base.items[index.python]
            element = {v.SHAPE: v.NUMBER}.get(base.kind, base.element or v.UNKNOWN)
            code = f"py.at({base.code}, {index.code})"
            if element == v.TENSOR:
                code = f"({code} as tf.Tensor)"
            elif element == v.LAYER:
                code = f"({code} as tf.layers.Layer)"
            return v.Value(code, element)
        if base.kind == v.DICT:
            key = self.expr(node.slice)
            return v.Value(f"{base.code}[{key.code}]", v.UNKNOWN)
        raise TranslationGap(node, f"indexing a {base.kind} value is not translated")

    def index_spec(self, node) -> str:
        if isinstance(node, ast.Slice):
            parts = [self.static(p, node).code if p is not None else "null" for p in (node.lower, node.upper, node.step)]
            return f"py.slice({', '.join(parts)})"
        if isinstance(node, ast.Constant) and node.value is None:
            return "null"
        if isinstance(node, ast.Constant) and node.value is Ellipsis:
            return "'...'"
        value = self.expr(node)
        if value.is_tensor:
            raise TranslationGap(node, "indexing a tensor with a tensor (gather) is not translated; use ops.take")
        if value.kind != v.NUMBER:
            raise TranslationGap(node, f"a {value.kind} index is not translated")
        return value.code

    def static(self, node, where=None) -> v.Value:
        value = self.expr(node)
        if value.is_tensor:
            raise TranslationGap(where or node, "a tensor used where Python needs a static value (a shape, an index, a count)")
        return value

    # --- comprehensions ---------------------------------------------------------------------
    def _ListComp(self, node: ast.ListComp) -> v.Value:
        if len(node.generators) != 1 or node.generators[0].is_async:
            raise TranslationGap(node, "comprehensions over several iterables are not translated")
        gen = node.generators[0]
        iterable = self.iteration(gen.iter)
        if not isinstance(gen.target, ast.Name):
            raise TranslationGap(node, "comprehension targets other than a name are not translated")
        name = local_name(gen.target.id)
        saved = dict(self.scope)
        self.scope[gen.target.id] = v.Value(name, iterable.element or v.UNKNOWN)
        try:
            element = self.expr(node.elt)
            conditions = [self.static(c) for c in gen.ifs]
        finally:
            self.scope = saved
        code = iterable.code
        if conditions:
            code = f"{code}.filter(({name}) => {' && '.join(c.code for c in conditions)})"
        code = f"{code}.map(({name}) => {self.read(element)})"
        return v.Value(code, v.SEQUENCE, element=v.TENSOR if element.is_tensor else element.kind)

    def iteration(self, node) -> v.Value:
        """An iterable a loop or comprehension may go over: range(), a static list, a shape."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range" and self.context.lookup_global("range")[1] is range:
            args = [self.static(a).code for a in node.args]
            return v.Value(f"py.range({', '.join(args)})", v.SEQUENCE, element=v.NUMBER)
        value = self.expr(node)
        if value.is_tensor:
            raise TranslationGap(node, "a loop over a tensor's values is Python control flow on a tensor")
        if value.kind == v.SHAPE:
            return v.Value(value.code, v.SEQUENCE, element=v.NUMBER)
        if value.kind != v.SEQUENCE:
            raise TranslationGap(node, f"a loop over a {value.kind} value is not translated")
        return value

    # --- calls ------------------------------------------------------------------------------
    def _Call(self, node: ast.Call) -> v.Value:
        func = node.func
        if isinstance(func, ast.Attribute):
            owner = self.expr(func.value) if not (isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name) and func.value.func.id == "super") else v.Value("super", "super")
            if owner.kind == "super":
                return self.super_call(node, func.attr)
            if owner.kind == "self":
                return self.self_call(node, func.attr)
            if owner.kind in (v.LAYER,) and func.attr in ("__call__", "call"):
                return self.layer_call(node, owner)
            if owner.kind == v.LAYER and (func.attr == "build" or func.attr.lstrip("_").startswith("build_from_signature")):
                args, kwargs = self.arguments(node)
                shapes = args + list(kwargs.values())
                if not shapes:
                    raise TranslationGap(node, "a sub-layer's build() with no shape is not translated")
                code = shapes[0].code if len(shapes) == 1 else "[" + ", ".join(s.code for s in shapes) + "]"
                return v.Value(f"this.buildLayer({owner.code}, {code})", v.NONE)
            if owner.kind == v.LAYER and func.attr == "compute_mask":
                args, kwargs = self.arguments(node)
                mask = kwargs.get("mask") or (args[1] if len(args) > 1 else None)
                return v.Value(f"kops.computeMask({owner.code}, {self.read(args[0])}, {mask.code if mask else 'null'})", v.TENSOR)
            if owner.kind == v.WEIGHT and func.attr in ("assign", "assign_add", "assign_sub"):
                (value,), _ = self.arguments(node)
                return v.Value(f"kops.{ {'assign': 'assign', 'assign_add': 'assignAdd', 'assign_sub': 'assignSub'}[func.attr]}({owner.code}, {self.read(value)})", v.NONE)
            if owner.is_tensor or owner.kind in (v.SHAPE, v.SEQUENCE, v.STRING, v.DICT):
                return self.method_call(node, owner, func.attr)
            if owner.kind != "object":
                raise TranslationGap(node, f"method '.{func.attr}()' of a {owner.kind} value is not translated")
        callee = self.expr(func)
        if callee.kind == v.LAYER:
            return self.layer_call(node, callee)
        if callee.kind == "method":
            return self.helper_call(node, callee.python)
        if callee.kind == "function":
            args, kwargs = self.arguments(node)
            if len(args) != 1 or kwargs:
                raise TranslationGap(node, "an activation function called with other than one tensor")
            return v.tensor(f"{callee.code}({self.read(args[0])})")
        if callee.kind != "object":
            raise TranslationGap(node, f"calling a {callee.kind} value is not translated")
        return self.object_call(node, callee.python)

    def constructor_arguments(self, node: ast.Call, what: str) -> tuple:
        """Arguments of a constructor call; an initializer argument that does not translate is left
        out with a note (it only matters to weights trained from scratch; converted ones are loaded)."""
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise TranslationGap(node, "*args / **kwargs in a call are not translated")
        args = [self.expr(a) for a in node.args]
        kwargs = {}
        gaps = getattr(self, "gaps", [])
        for k in node.keywords:
            before, helpers = len(gaps), list(getattr(getattr(self, "helpers", None), "order", []))
            try:
                kwargs[k.arg] = self.expr(k.value)
                if len(gaps) > before:  # a helper function's body stopped at a gap
                    raise TranslationGap(k.value, gaps[before].why)
            except TranslationGap as gap:
                if not k.arg.endswith(("initializer", "regularizer")):
                    raise
                del gaps[before:]
                kwargs.pop(k.arg, None)
                self.forget_helpers_since(helpers)
                self.context.notes.append((k.value, f"{what}({k.arg}=...) left out: {gap.why}; weights are loaded from Keras"))
        return args, kwargs

    def forget_helpers_since(self, kept: list) -> None:
        helpers = getattr(self, "helpers", None)
        if helpers is None:
            return
        for name in [n for n in helpers.order if n not in kept]:
            helpers.order.remove(name)
            helpers.translated.pop(name, None)

    def arguments(self, node: ast.Call) -> tuple:
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise TranslationGap(node, "*args / **kwargs in a call are not translated")
        return [self.expr(a) for a in node.args], {k.arg: self.expr(k.value) for k in node.keywords}

    def object_call(self, node: ast.Call, fn) -> v.Value:
        name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
        module = getattr(fn, "__module__", "") or ""
        if fn in (tf.py_function, tf.numpy_function) or fn is getattr(tf.compat.v1, "py_func", None):
            return self.script_op_call(node, fn)
        row, python_name = find_row(fn)
        if row is not None:
            return self.table_call(node, fn, row, python_name)
        builtin = getattr(self, f"builtin_{getattr(fn, '__name__', '')}", None)
        if builtin is not None and getattr(builtins, fn.__name__, None) is fn:
            return builtin(node)
        if fn is getattr(math, getattr(fn, "__name__", ""), None) and fn.__name__ in ("sqrt", "floor", "ceil", "log", "exp", "pow"):
            args, _ = self.arguments(node)
            return v.number(f"Math.{fn.__name__}({', '.join(a.code for a in args)})")
        if module.endswith("logging") or module == "warnings" or type(getattr(fn, "__self__", None)).__name__ == "Logger":
            # A message for the developer: kept as one, with no effect on the result.
            args, _ = self.arguments(node)
            return v.Value(f"console.warn({', '.join(self.read(a) for a in args)})", v.NONE)
        if is_keras_layer_class(fn):
            return self.construct_layer(node, fn)
        if isinstance(fn, types.FunctionType) and fn.__name__ != "<lambda>" and not module.startswith(("keras.", "tensorflow", "numpy")):
            # A plain Python function (the user's, or a library's helper): its body is translated.
            args, kwargs = self.arguments(node)
            try:
                bound = inspect.signature(fn).bind(*args, **kwargs)
                bound.apply_defaults()
                args = [value if isinstance(value, v.Value) else literal(value) for value in bound.arguments.values()]
            except (TypeError, ValueError) as exc:
                raise TranslationGap(node, f"call to {ast.unparse(node.func)}: cannot bind its arguments ({exc})") from exc
            return self.helpers.call_function(node, fn, args, self)
        if is_initializer_class(fn):
            return self.construct_initializer(node, fn)
        written = ast.unparse(node.func)
        if module.split(".")[0] in ("numpy", "tensorflow", "keras"):
            raise TranslationGap(node, f"{written} ({module}.{name}) has no entry in keras-bridge's mapping table (docs/translation-table.md)")
        raise TranslationGap(node, f"call to {written} ({module}.{name}): a Python function outside the mapping table (its body is not translated)")

    def table_call(self, node: ast.Call, fn, row, python_name: str) -> v.Value:
        args, kwargs = self.arguments(node)
        try:
            signature = inspect.signature(fn)
            bound = signature.bind(*args, **kwargs)
        except (TypeError, ValueError) as exc:
            raise TranslationGap(node, f"{python_name}: cannot match the call's arguments ({exc})") from exc
        given = dict(bound.arguments)
        for param in signature.parameters.values():
            if param.kind == param.VAR_POSITIONAL and param.name in given:
                given[param.name] = v.Value("[" + ", ".join(self.read(x) for x in given[param.name]) + "]", v.SEQUENCE, items=list(given[param.name]))
        used = set()
        out = []
        for ts_param, aliases in row.params:
            hit = next((a for a in aliases if a in given), None)
            if hit is not None:
                used.add(hit)
                value = given[hit]
                out.append(self.dtype_code(value) if ts_param == "dtype" else self.read(value))
                continue
            default = next((signature.parameters[a].default for a in aliases if a in signature.parameters), inspect.Parameter.empty)
            out.append("undefined" if default is inspect.Parameter.empty else self.default_code(default, ts_param, node))
        for param, value in given.items():
            if param in used or param in row.ignored:
                continue
            raise TranslationGap(node, f"{python_name} with {param}= is not in keras-bridge's mapping table (docs/translation-table.md)")
        while out and out[-1] == "undefined":
            out.pop()
        kind = row.kind
        result = v.Value(f"{row.ts}({', '.join(out)})", kind)
        if kind == v.SEQUENCE:
            result.element = v.TENSOR
        return result

    def default_code(self, default, ts_param: str, node) -> str:
        if ts_param == "dtype":
            return "null" if default is None else self.dtype_code(literal(str(default)))
        try:
            return _python_literal(default)
        except ValueError:
            return "undefined"

    def dtype_code(self, value: v.Value) -> str:
        if value.kind == v.NONE:
            return "null"
        if value.kind == v.STRING and value.python is not None:
            return ts_string(TFJS_DTYPES.get(str(value.python), str(value.python)))
        if value.kind == "object":
            python_types = {float: "float32", int: "int32", bool: "bool"}
            builtin = next((name for t, name in python_types.items() if value.python is t), None)
            if builtin:  # ops.cast(x, float): Python's type as a dtype (compared by identity: tf.float32 == float)
                return ts_string(builtin)
            name = getattr(value.python, "name", None) or getattr(value.python, "__name__", None)
            if isinstance(name, str) and name in TFJS_DTYPES:
                return ts_string(TFJS_DTYPES[name])
            raise TranslationGap(None, f"dtype {value.python!r} is not translated")
        return f"kops.dtype({value.code})"

    def construct_layer(self, node: ast.Call, cls) -> v.Value:
        args, kwargs = self.constructor_arguments(node, cls.__name__)
        try:
            bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
        except TypeError as exc:
            raise TranslationGap(node, f"{cls.__name__}(...): cannot match the arguments ({exc})") from exc
        fields = []
        for name, value in list(bound.arguments.items())[1:]:
            if isinstance(value, dict):  # **kwargs of the constructor
                fields += [f"{k}: {self.read(x)}" for k, x in value.items()]
            elif isinstance(value, tuple):
                raise TranslationGap(node, f"{cls.__name__}(*args) is not translated")
            else:
                fields.append(f"{name}: {self.read(value)}")
        config = "{ " + ", ".join(fields) + " }" if fields else "{}"
        if is_builtin_keras_class(cls):
            return v.Value(f"kops.kerasLayer({ts_string(cls.__name__)}, {config})", v.LAYER, python=cls)
        if cls not in self.context.custom_dependencies:
            self.context.custom_dependencies.append(cls)
        return v.Value(f"new {cls.__name__}({config})", v.LAYER, python=cls)

    def construct_initializer(self, node: ast.Call, cls) -> v.Value:
        args, kwargs = self.arguments(node)
        bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
        fields = [f"{k}: {self.read(x)}" for k, x in list(bound.arguments.items())[1:] if not isinstance(x, dict)]
        return v.Value(f"{{ class_name: {ts_string(cls.__name__)}, config: {{ {', '.join(fields)} }} }}", v.DICT)

    def method_call(self, node: ast.Call, owner: v.Value, method: str) -> v.Value:
        args, kwargs = self.arguments(node)
        if owner.kind in (v.SHAPE, v.SEQUENCE) and method in ("index", "count") and not kwargs:
            return v.number(f"py.{method}Of({owner.code}, {', '.join(a.code for a in args)})")
        if owner.kind == v.SHAPE and method == "as_list":
            return owner
        if owner.kind == v.DICT and method == "get":
            default = args[1].code if len(args) > 1 else "null"
            return v.Value(f"({owner.code}[{args[0].code}] ?? {default})", v.UNKNOWN)
        if owner.kind == v.DICT and method in ("update",):
            return v.Value(f"Object.assign({owner.code}, {args[0].code})", v.DICT)
        if owner.kind == v.DICT and method == "pop":
            default = args[1].code if len(args) > 1 else "undefined"
            return v.Value(f"py.pop({owner.code}, {args[0].code}, {default})", v.UNKNOWN)
        if owner.is_tensor:
            if method == "set_shape":
                return v.Value("", v.NONE)  # a static shape hint; tfjs tensors always know their shape
            if method == "numpy":
                raise TranslationGap(node, "`.numpy()` reads a tensor's values into Python at call time")
            row, python_name = find_row(getattr(keras.ops, method, None))
            if method in ("reshape", "transpose", "sum", "mean", "max", "min") and row is not None:
                return v.tensor(f"{row.ts}({self.read(owner)}, {', '.join(self.read(a) for a in args)})")
        raise TranslationGap(node, f"method '.{method}()' of a {owner.kind} value is not translated")

    # --- builtins ---------------------------------------------------------------------------
    def builtin_len(self, node) -> v.Value:
        (arg,), _ = self.arguments(node)
        if arg.is_tensor:
            return v.number(f"{self.read(arg)}.shape[0]!")
        return v.number(f"{arg.code}.length")

    def builtin_range(self, node) -> v.Value:
        args, _ = self.arguments(node)
        return v.Value(f"py.range({', '.join(self.static_code(a, node) for a in args)})", v.SEQUENCE, element=v.NUMBER)

    def static_code(self, value: v.Value, node) -> str:
        if value.is_tensor:
            raise TranslationGap(node, "a tensor used where Python needs a static value")
        return value.code

    def builtin_int(self, node) -> v.Value:
        (arg,), _ = self.arguments(node)
        return v.number(f"Math.trunc({self.static_code(arg, node)})")

    def builtin_float(self, node) -> v.Value:
        (arg,), _ = self.arguments(node)
        return v.number(f"Number({self.static_code(arg, node)})")

    def builtin_bool(self, node) -> v.Value:
        (arg,), _ = self.arguments(node)
        return v.Value(f"py.truthy({self.static_code(arg, node)})", v.BOOL)

    def builtin_abs(self, node) -> v.Value:
        (arg,), _ = self.arguments(node)
        if arg.is_tensor:
            return v.tensor(f"tf.abs({self.read(arg)})")
        return v.number(f"Math.abs({arg.code})")

    def _min_max(self, node, which: str) -> v.Value:
        args, kwargs = self.arguments(node)
        if kwargs or any(a.is_tensor for a in args):
            raise TranslationGap(node, f"Python's {which}() over tensors is a branch on their values (use ops.{which}imum)")
        if len(args) == 1:
            return v.number(f"Math.{which}(...{args[0].code})")
        return v.number(f"Math.{which}({', '.join(a.code for a in args)})")

    def builtin_min(self, node) -> v.Value:
        return self._min_max(node, "min")

    def builtin_max(self, node) -> v.Value:
        return self._min_max(node, "max")

    def builtin_round(self, node) -> v.Value:
        args, _ = self.arguments(node)
        return v.number(f"py.round({', '.join(self.static_code(a, node) for a in args)})")

    def builtin_tuple(self, node) -> v.Value:
        (arg,), _ = self.arguments(node)
        return v.Value(f"[...{arg.code}]", v.SEQUENCE if arg.kind != v.SHAPE else v.SHAPE, element=arg.element)

    builtin_list = builtin_tuple

    def builtin_hasattr(self, node) -> v.Value:
        """hasattr(self or self.<sub-layer>, "name"): what the exported instance has, a constant."""
        if len(node.args) != 2 or not isinstance(node.args[1], ast.Constant) or not isinstance(node.args[1].value, str):
            raise TranslationGap(node, "hasattr() with a computed name is not translated")
        target = node.args[0]
        obj = None
        if isinstance(target, ast.Name) and target.id == self.self_name:
            obj = self.context.instance
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == self.self_name:
            found, obj = self.context.live_attribute(target.attr)
            if not found:
                raise TranslationGap(node, f"hasattr() on self.{target.attr}, which the exported instance does not hold")
        else:
            raise TranslationGap(node, "hasattr() on other than self or one of its attributes is not translated")
        value = hasattr(obj, node.args[1].value)
        return v.Value("true" if value else "false", v.BOOL, python=value)

    def builtin_isinstance(self, node) -> v.Value:
        raise TranslationGap(node, "isinstance() is not translated (a TypeScript value's type is not Python's)")

    def builtin_print(self, node) -> v.Value:
        args, _ = self.arguments(node)
        return v.Value(f"console.log({', '.join(self.read(a) for a in args)})", v.NONE)

    def builtin_sum(self, node) -> v.Value:
        (arg,), _ = self.arguments(node)
        if arg.element == v.TENSOR:
            return v.tensor(f"tf.addN({arg.code})")
        return v.number(f"{arg.code}.reduce((a, b) => a + b, 0)")
