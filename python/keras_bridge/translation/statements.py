"""Python statements of one method → TypeScript lines. Control flow on static values (shapes, config
fields, `training`) becomes TypeScript control flow; on a tensor's value it is a gap."""
from __future__ import annotations

import ast
import copy
import os
import inspect
import textwrap
import types

from . import values as v
from .class_context import ClassContext
from .expressions import ExpressionTranslator, literal
from .gaps import TranslationGap
from .names import local_name, ts_string

INDENT = "  "


class FunctionTranslator(ExpressionTranslator):
    """One method's body. `gaps` collects what could not be translated, each with its node; the
    statement is then left out and the generated class is not used (the layer falls to another route)."""

    def __init__(self, context: ClassContext, method: str, helpers: "HelperMethods"):
        super().__init__(context)
        self.method = method
        self.helpers = helpers
        self.gaps: list = []
        self.declared: set = set()
        self.lines: list = []
        self.depth = 0
        self.reassigned: set = set()

    # --- emission ---------------------------------------------------------------------------
    def emit(self, line: str) -> None:
        self.lines.append(INDENT * self.depth + line)

    def body(self, statements: list) -> None:
        for statement in statements:
            try:
                self.statement(statement)
            except TranslationGap as gap:
                weight = initial_value_of_weight(statement) if self.method in ("__init__", "build") else None
                if weight is None:
                    for name in assigned_names(statement):
                        self.scope[name] = v.Value(local_name(name), "poisoned")
                    if not gap.secondary:
                        self.gaps.append(gap)
                    # The draft a person finishes (keras-bridge scaffold): the gap marked where it is.
                    python = ast.unparse(statement).splitlines()[0]
                    self.emit(f"// TODO(keras-bridge): not translated: {gap.why}")
                    self.emit(f"//   Python: {python}")
                    self.emit(f"throw new Error({ts_string('not translated: ' + python)});")
                    continue
                # Converted weights are loaded from Keras: an initial value only matters to a layer trained from scratch.
                self.emit(f"// keras-bridge: self.{weight}'s initial value is not translated ({gap.why}); its value is loaded from Keras.")
                self.context.notes.append((statement, f"initial value of weight self.{weight} not translated: {gap.why}"))

    def statement(self, node: ast.stmt) -> None:
        method = getattr(self, f"_stmt_{type(node).__name__}", None)
        if method is None:
            raise TranslationGap(node, f"Python {type(node).__name__} statements are not translated")
        method(node)

    # --- statements -------------------------------------------------------------------------
    def _stmt_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return  # a docstring
        value = self.expr(node.value)
        if value.code:
            self.emit(f"{value.code};")

    def _stmt_Pass(self, node) -> None:
        return

    def _stmt_Return(self, node: ast.Return) -> None:
        if node.value is None:
            self.emit("return;")
            return
        value = self.expr(node.value)
        self.returned(value, node)
        self.emit(f"return {self.read(value)};")

    def returned(self, value: v.Value, node) -> None:
        """Hook: call() checks that it returns tensors."""

    def _stmt_Assign(self, node: ast.Assign) -> None:
        self.assign(node.targets[0], node.value, node)
        # `a = b = value`: each further name takes the first one's value.
        for target in node.targets[1:]:
            if not isinstance(target, ast.Name) or not isinstance(node.targets[0], ast.Name):
                raise TranslationGap(node, "chained assignment to other than names is not translated")
            self.bind_local(target.id, self.scope[node.targets[0].id])

    def _stmt_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.assign(node.target, node.value, node)

    def assign(self, target, value_node, node) -> None:
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == self.self_name:
            self.assign_attribute(target.attr, value_node, node)
            return
        value = self.expr(value_node)
        if isinstance(target, ast.Name):
            self.bind_local(target.id, value)
            return
        if isinstance(target, (ast.Tuple, ast.List)) and all(isinstance(t, ast.Name) for t in target.elts):
            names = [local_name(t.id) for t in target.elts]
            element = value.element or (v.TENSOR if value.is_tensor else v.UNKNOWN)
            if value.is_tensor:
                # Unpacking a tensor splits it along axis 0, as iterating a tensor does in Python.
                code = f"kops.unstack({self.read(value)}, 0)"
            elif value.kind in (v.SEQUENCE, v.SHAPE):
                code = value.code
                element = v.NUMBER if value.kind == v.SHAPE else element
            else:
                raise TranslationGap(node, f"unpacking a {value.kind} value is not translated")
            fresh = [t.id for t in target.elts if t.id not in self.declared]
            if len(fresh) == len(target.elts):
                typed = " as tf.Tensor[]" if element == v.TENSOR and value.kind != v.SHAPE and not value.is_tensor else ""
                declare = "let" if any(t.id in self.reassigned for t in target.elts) else "const"
                self.emit(f"{declare} [{', '.join(names)}] = {code}{typed};")
            else:
                self.emit(f"[{', '.join(names)}] = {code};")
            for i, t in enumerate(target.elts):
                item_kind = value.items[i].kind if value.items and i < len(value.items) else element
                self.declared.add(t.id)
                self.scope[t.id] = v.Value(local_name(t.id), item_kind)
            return
        if isinstance(target, ast.Subscript):
            container = self.expr(target.value)
            if container.kind in (v.SEQUENCE, v.SHAPE, v.DICT) and not isinstance(target.slice, ast.Slice):
                key = self.static(target.slice, node)
                self.emit(f"py.setItem({container.code}, {key.code}, {self.read(value)});")
                return
            raise TranslationGap(node, "assigning into a tensor element is not translated (tensors are immutable in tfjs)")
        raise TranslationGap(node, "this assignment target is not translated")

    def bind_local(self, name: str, value: v.Value) -> None:
        code = self.read(value) if value.kind == v.WEIGHT else value.code
        kind = v.TENSOR if value.kind == v.WEIGHT else value.kind
        ts = local_name(name)
        if name in self.declared:
            self.emit(f"{ts} = {code};")
        elif name in self.reassigned:
            self.emit(f"let {ts}{self.type_annotation(kind)} = {code};")
        else:
            self.emit(f"const {ts} = {code};")
        self.declared.add(name)
        self.scope[name] = v.Value(ts, kind, items=value.items, element=value.element, python=value.python)

    def type_annotation(self, kind: str) -> str:
        return {v.TENSOR: ": tf.Tensor", v.NUMBER: ": number", v.BOOL: ": boolean", v.STRING: ": string", v.SHAPE: ": Array<number | null>"}.get(kind, "")

    def assign_attribute(self, attr: str, value_node, node) -> None:
        raise TranslationGap(node, f"assigning self.{attr} outside __init__ and build() is not translated (layer state changed by call())")

    def _stmt_AugAssign(self, node: ast.AugAssign) -> None:
        if not isinstance(node.target, ast.Name):
            raise TranslationGap(node, "augmented assignment to other than a local name is not translated")
        combined = ast.BinOp(left=ast.Name(id=node.target.id, ctx=ast.Load()), op=node.op, right=node.value)
        ast.copy_location(combined, node)
        value = self.expr(combined)
        self.bind_local(node.target.id, value)

    def _stmt_If(self, node: ast.If) -> None:
        # An `if` and its `elif`s, each test static (a shape, a config field, `training`).
        branch, keyword = node, "if"
        while True:
            test = self.expr(branch.test)
            if test.is_tensor:
                advice = " (use ops.where, or keras-bridge's graph fallback)" if keyword == "if" else ""
                raise TranslationGap(branch, f"a Python `{keyword}` on a tensor's value{advice}")
            self.emit(f"{'if' if keyword == 'if' else '} else if'} ({self.condition(test)}) {{")
            self.block(branch.body)
            orelse = branch.orelse
            if not (len(orelse) == 1 and isinstance(orelse[0], ast.If)):
                break
            branch, keyword = orelse[0], "elif"
        if orelse:
            self.emit("} else {")
            self.block(orelse)
        self.emit("}")

    def condition(self, test: v.Value) -> str:
        return test.code if test.kind == v.BOOL else f"py.truthy({test.code})"

    def block(self, statements) -> None:
        self.depth += 1
        self.body(statements)
        self.depth -= 1

    def _stmt_For(self, node: ast.For) -> None:
        if node.orelse:
            raise TranslationGap(node, "for ... else is not translated")
        iterable = self.iteration(node.iter)
        if isinstance(node.target, ast.Name):
            name = local_name(node.target.id)
            self.scope[node.target.id] = v.Value(name, iterable.element or v.UNKNOWN)
            self.declared.add(node.target.id)
            self.emit(f"for (const {name} of {iterable.code}) {{")
        elif isinstance(node.target, ast.Tuple) and all(isinstance(t, ast.Name) for t in node.target.elts):
            names = [local_name(t.id) for t in node.target.elts]
            for t in node.target.elts:
                self.scope[t.id] = v.Value(local_name(t.id), v.UNKNOWN)
                self.declared.add(t.id)
            self.emit(f"for (const [{', '.join(names)}] of {iterable.code}) {{")
        else:
            raise TranslationGap(node, "this loop target is not translated")
        self.block(node.body)
        self.emit("}")

    def _stmt_While(self, node: ast.While) -> None:
        test = self.expr(node.test)
        if test.is_tensor or node.orelse:
            raise TranslationGap(node, "a `while` on a tensor's value is Python control flow on a tensor")
        self.emit(f"while ({self.condition(test)}) {{")
        self.block(node.body)
        self.emit("}")

    def _stmt_Break(self, node) -> None:
        self.emit("break;")

    def _stmt_Continue(self, node) -> None:
        self.emit("continue;")

    def _stmt_Raise(self, node: ast.Raise) -> None:
        message = "raised by the Python layer"
        if isinstance(node.exc, ast.Call) and node.exc.args:
            try:
                message_value = self.expr(node.exc.args[0])
                self.emit(f"throw new Error({message_value.code});")
                return
            except TranslationGap:
                pass
        self.emit(f"throw new Error({ts_string(message)});")

    def _stmt_Assert(self, node: ast.Assert) -> None:
        test = self.expr(node.test)
        if test.is_tensor:
            raise TranslationGap(node, "an assert on a tensor's value")
        self.emit(f"if (!({self.condition(test)})) throw new Error({ts_string('assertion failed: ' + ast.unparse(node.test))});")

    # --- calls on self, super and sub-layers ---------------------------------------------------
    def super_call(self, node: ast.Call, method: str) -> v.Value:
        if method in ("__init__", "build"):
            return v.Value("", v.NONE)  # the generated constructor and build() call super themselves
        if method == "get_config":
            return v.Value("super.getConfig()", v.DICT)
        raise TranslationGap(node, f"super().{method}() is not translated")

    def self_call(self, node: ast.Call, attr: str) -> v.Value:
        if attr == "add_weight":
            return self.add_weight(node)
        if attr in self.context.methods:
            return self.helper_call(node, attr)
        kind = self.context.kind_of_attribute(attr)
        if kind == v.LAYER:
            return self.layer_call(node, self.self_attribute(node, attr))
        if kind == "function":
            args, kwargs = self.arguments(node)
            if len(args) != 1 or kwargs:
                raise TranslationGap(node, f"self.{attr}(...) with other than one tensor")
            return v.tensor(f"this.{self.context.attribute_name(attr)}({self.read(args[0])})")
        raise TranslationGap(node, f"self.{attr}(...) is not translated")

    def add_weight(self, node: ast.Call) -> v.Value:
        raise TranslationGap(node, "add_weight() outside __init__ and build() is not translated")

    def layer_call(self, node: ast.Call, layer: v.Value) -> v.Value:
        args, kwargs = self.arguments(node)
        args, kwargs = self.tensor_arguments_first(node, layer, args, kwargs)
        if not args:
            raise TranslationGap(node, "a sub-layer called with no tensor input is not translated")
        inputs = args[0] if len(args) == 1 else v.Value("[" + ", ".join(self.read(a) for a in args) + "]", v.SEQUENCE)
        options = []
        for key, value in kwargs.items():
            if key == "training":
                options.append(f"training: {value.code}")
            elif key == "mask":
                options.append(f"mask: {self.read(value)}")
            else:
                options.append(f"{camel_key(key)}: {self.read(value)}")
        if "training" not in kwargs and self.training is not None:
            # Keras passes the caller's `training` down to sub-layers that take it.
            options.append(f"training: {self.training.code}")
        option_code = ", { " + ", ".join(options) + " }" if options else ""
        result = v.Value(f"this.callLayer({layer.code}, {self.read(inputs)}{option_code})", v.TENSOR)
        return result

    def tensor_arguments_first(self, node, layer: v.Value, args: list, kwargs: dict) -> tuple:
        """A Keras sub-layer called with tensors by keyword (`mha(query=x, value=x, attention_mask=m)`):
        its call() signature orders them as tfjs takes them, inputs first; the tensor keyword
        arguments tfjs layers read from kwargs (masks, initial states) stay keyword arguments."""
        live = self.live_layer(layer)
        if live is None or not any(value.is_tensor for value in kwargs.values()):
            return args, kwargs
        try:
            bound = inspect.signature(live.call).bind(*args, **kwargs).arguments
        except TypeError as exc:
            raise TranslationGap(node, f"cannot match the sub-layer call's arguments to its call() ({exc})") from exc
        positional, keywords = [], {}
        for name, value in bound.items():
            if isinstance(value, v.Value) and value.is_tensor and name not in KWARG_TENSORS:
                positional.append(value)
            elif isinstance(value, v.Value):
                keywords[name] = value
        return positional, keywords

    def live_layer(self, layer: v.Value):
        if isinstance(layer.python, type):
            return None
        return layer.python if layer.python is not None and hasattr(layer.python, "call") else None

    def script_op_call(self, node: ast.Call, script_op) -> v.Value:
        """tf.py_function(func, inp, Tout): the Python function's own body translated, when it is
        a plain function of the user's whose calls all have exact tfjs equivalents (the seed's
        np.mean(x, axis=1, keepdims=True)); anything else stays a gap."""
        args, kwargs = self.arguments(node)
        try:
            bound = inspect.signature(script_op).bind(*args, **kwargs).arguments
        except TypeError as exc:
            raise TranslationGap(node, f"tf.{script_op.__name__}: cannot match the arguments ({exc})") from exc
        func, inp, tout = bound.get("func"), bound.get("inp"), bound.get("Tout")
        if func is None or not isinstance(func.python, types.FunctionType) or func.python.__name__ == "<lambda>":
            raise TranslationGap(node, f"tf.{script_op.__name__} {SCRIPT_OPS_MESSAGE}; its func is not a plain Python function whose source keras-bridge can read")
        if inp is None or inp.kind != v.SEQUENCE or not inp.items:
            raise TranslationGap(node, f"tf.{script_op.__name__}: inp is not a list of tensors")
        if tout is None or (tout.kind == v.SEQUENCE):
            raise TranslationGap(node, f"tf.{script_op.__name__} with several outputs (Tout a list) is not translated")
        result = self.helpers.call_function(node, func.python, inp.items, self)
        self.context.notes.append((node, f"tf.{script_op.__name__}({func.python.__name__}): the body of {func.python.__name__} translated; Python cannot differentiate it, the TypeScript can"))
        return v.tensor(f"kops.cast({self.read(result)}, {self.dtype_code(tout)})")

    def helper_call(self, node: ast.Call, name: str) -> v.Value:
        args, kwargs = self.arguments(node)
        return self.helpers.call(node, name, args, kwargs, self)


class HelperMethods:
    """The layer's own methods that call() or build() invoke (`self._split_heads(x)`), translated
    once, at their first call, with the kinds of the arguments given there."""

    def __init__(self, context: ClassContext):
        self.context = context
        self.translated: dict = {}
        self.order: list = []
        self.in_progress: set = set()

    def call(self, node, name: str, args: list, kwargs: dict, caller: FunctionTranslator) -> v.Value:
        fn = self.context.methods[name]
        params = [a.arg for a in fn.args.args[1:]]
        try:
            bound = inspect.Signature(
                [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in params]
            ).bind_partial(*args, **kwargs)
        except TypeError as exc:
            raise TranslationGap(node, f"self.{name}(...): cannot match the arguments ({exc})") from exc
        if name in self.in_progress:
            raise TranslationGap(node, f"self.{name} calls itself; recursion is not translated")
        if name not in self.translated:
            self.in_progress.add(name)
            try:
                self.translated[name] = self.translate(fn, bound.arguments, caller)
            finally:
                self.in_progress.discard(name)
        result_kind, ts_params = self.translated[name]["kind"], self.translated[name]["params"]
        values = []
        defaults = fn.args.defaults
        first_default = len(params) - len(defaults)
        for i, p in enumerate(params):
            if p in bound.arguments:
                values.append(caller.read(bound.arguments[p]))
            elif i >= first_default:
                values.append("undefined")
        while values and values[-1] == "undefined":
            values.pop()
        if self.translated[name].get("training"):
            values.append(caller.training.code if caller.training else "null")
        return v.Value(f"this.{local_name(name)}({', '.join(values)})", result_kind)

    def call_function(self, node, fn, args: list, caller: FunctionTranslator) -> v.Value:
        """A plain Python function (not a method) called with tensors, translated as a private method."""
        name = fn.__name__
        if name not in self.translated:
            try:
                source = textwrap.dedent(inspect.getsource(fn))
                tree = ast.parse(source).body[0]
            except (OSError, TypeError, SyntaxError, IndexError) as exc:
                raise TranslationGap(node, f"the source of {name} cannot be read ({exc})") from exc
            if not isinstance(tree, ast.FunctionDef) or tree.args.vararg or tree.args.kwarg:
                raise TranslationGap(node, f"{name} is not a plain function of positional arguments")
            params = [a.arg for a in tree.args.args]
            if len(params) != len(args):
                raise TranslationGap(node, f"{name} takes {len(params)} arguments, given {len(args)}")
            context = copy.copy(self.context)
            context.globals = dict(fn.__globals__)
            context.methods = {}
            helpers = HelperMethods(context)
            helpers.order, helpers.translated = self.order, self.translated
            before = len(caller.gaps)
            self.translated[name] = helpers.translate(tree, dict(zip(params, args)), caller, has_self=False)
            # Gaps inside the function are reported at the call, naming the function's own line.
            first = inspect.getsourcelines(fn)[1]
            where = f"{name} ({os.path.basename(inspect.getsourcefile(fn) or '?')}:"
            caller.gaps[before:] = [
                TranslationGap(node, f"in {where}{first + getattr(g.node, 'lineno', 1) - 1}): {g.why}", g.secondary) for g in caller.gaps[before:]
            ]
        return v.Value(f"this.{local_name(name)}({', '.join(caller.read(a) for a in args)})", self.translated[name]["kind"])

    def translate(self, fn: ast.FunctionDef, arguments: dict, caller: FunctionTranslator, has_self: bool = True) -> dict:
        # A helper that __init__ or build() calls may set attributes too: it is translated as they are.
        fields = getattr(caller, "fields", None)
        translator = type(caller)(self.context, fn.name, self, fields) if fields is not None else FunctionTranslator(self.context, fn.name, self)
        translator.reassigned = reassigned_names(fn)
        translator.training = v.Value("training", v.BOOL) if caller.training is not None and has_self else None
        params = [a.arg for a in fn.args.args[1 if has_self else 0:]]
        defaults = fn.args.defaults
        first_default = len(params) - len(defaults)
        signature = []
        for i, p in enumerate(params):
            given = arguments.get(p)
            if given is None and i >= first_default:
                given = translator.expr(defaults[i - first_default])
            kind = v.TENSOR if given is not None and given.kind == v.WEIGHT else (given.kind if given is not None else v.UNKNOWN)
            ts = local_name(p)
            translator.scope[p] = v.Value(ts, kind, items=getattr(given, "items", None), element=getattr(given, "element", None))
            translator.declared.add(p)
            optional = "?" if i >= first_default and p not in arguments else ""
            signature.append(f"{ts}{optional}: {ts_type(kind)}")
        if translator.training is not None:
            signature.append("training: boolean | null")
        translator.depth = 2
        kinds: list = []
        translator.returned = lambda value, node: kinds.append(value.kind)
        translator.body(fn.body)
        caller.gaps.extend(translator.gaps)
        kind = kinds[0] if kinds and all(k == kinds[0] for k in kinds) else v.UNKNOWN
        if kind == v.WEIGHT:
            kind = v.TENSOR
        record = {"kind": kind, "params": signature, "lines": translator.lines, "training": translator.training is not None, "name": fn.name}
        self.order.append(fn.name)
        return record


# Tensor keyword arguments tfjs layers read from call()'s kwargs rather than from their inputs.
KWARG_TENSORS = frozenset({"mask", "attention_mask", "initial_state", "padding_mask"})


def camel_key(name: str) -> str:
    parts = name.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def assigned_names(statement) -> list:
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target] if isinstance(statement, (ast.AugAssign, ast.AnnAssign)) else []
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]


def initial_value_of_weight(statement) -> str | None:
    """`self.<weight>.assign(...)` as a statement: the attribute's name, else None."""
    call = statement.value if isinstance(statement, ast.Expr) else None
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "assign":
        target = call.func.value
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
            return target.attr
    return None


def ts_type(kind: str) -> str:
    return {
        v.TENSOR: "tf.Tensor", v.NUMBER: "number", v.BOOL: "boolean", v.STRING: "string", v.SHAPE: "Array<number | null>",
        v.SEQUENCE: "any[]", v.LAYER: "tf.layers.Layer", v.NONE: "null", v.DICT: "Record<string, unknown>", "initializer": "unknown",
    }.get(kind, "any")


def reassigned_names(fn: ast.FunctionDef) -> set:
    """Locals assigned more than once, or first inside a block: declared with `let`."""
    counts: dict = {}
    nested: set = set()

    def visit(statements, depth):
        for s in statements:
            targets = []
            if isinstance(s, ast.Assign):
                targets = s.targets
            elif isinstance(s, (ast.AugAssign, ast.AnnAssign)):
                targets = [s.target]
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        counts[n.id] = counts.get(n.id, 0) + (2 if isinstance(s, ast.AugAssign) else 1)
                        if depth > 0:
                            nested.add(n.id)
            for child in ("body", "orelse"):
                if isinstance(s, (ast.If, ast.For, ast.While)) and getattr(s, child, None):
                    visit(getattr(s, child), depth + 1)

    visit(fn.body, 0)
    return {n for n, c in counts.items() if c > 1} | nested


def nested_first_assignments(fn: ast.FunctionDef) -> list:
    """Names whose first assignment is inside a block (if/for/while) and so must be declared before it."""
    seen_top: set = set()
    hoisted: list = []

    def visit(statements, depth):
        for s in statements:
            if isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = s.targets if isinstance(s, ast.Assign) else [s.target]
                for t in targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name) and n.id not in seen_top and n.id not in hoisted:
                            if depth == 0:
                                seen_top.add(n.id)
                            else:
                                hoisted.append(n.id)
            for child in ("body", "orelse"):
                if isinstance(s, (ast.If, ast.For, ast.While)) and getattr(s, child, None):
                    visit(getattr(s, child), depth + 1)

    visit(fn.body, 0)
    return hoisted
