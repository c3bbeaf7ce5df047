"""Python-only constructs in a custom layer's `call`, found by static analysis of its AST.

A TypeScript twin cannot reproduce what runs as Python at call time: `tf.py_function` and
`tf.numpy_function`, NumPy applied to tensors, `.numpy()`, and Python `if`/`while`/`for` whose
condition depends on a tensor's value. The exporter records each finding with its file and line
(the manifest's `python_only`), so that `keras-bridge inspect` can show them without a Python parser.

Nothing is executed: names are resolved by looking them up in the already-imported module's
globals (and `sys.modules` for imports inside a function), attributes only on modules.

Tensor values are tracked by a small taint analysis: `call`'s tensor parameters (see
`_tensor_parameters`), the layer's weights (`self.x = self.add_weight(...)`) and everything computed
from them are tensors; static projections are not (`x.shape`, `x.dtype`, `x.ndim`, `len(...)`,
`isinstance(...)`, `keras.ops.shape(x)`, `x is None`). So `if x.shape[-1] == 3:`, `if training:`,
`if self.units > 1:` and `if mask is not None:` are not flagged; `if tf.reduce_sum(x) > 0:` is.
Methods of the layer's own classes that `call` invokes (`self._helper(x)`) are analyzed too, with
the tensor-ness of their arguments.
"""
from __future__ import annotations

import ast
import builtins
import inspect
import sys
import textwrap
import types
from dataclasses import dataclass, field

from .class_source import display_path, is_user_class

# Attributes of a tensor that are known without running it.
STATIC_ATTRIBUTES = frozenset({"shape", "dtype", "ndim", "name", "device", "get_shape", "as_list"})
# Python functions whose result is static whatever their argument.
STATIC_BUILTINS = frozenset({"len", "isinstance", "type", "id", "hasattr", "callable", "issubclass"})
# Keyword parameters of call() that Keras passes as Python values by convention.
STATIC_PARAMETERS = frozenset({"self", "training"})
MAX_HELPER_DEPTH = 4


def _framework_objects() -> dict:
    """Objects the analysis recognizes by identity, imported lazily (TensorFlow is heavy)."""
    import keras
    import tensorflow as tf

    return {
        "script_ops": {tf.py_function: "py_function", tf.numpy_function: "numpy_function", tf.compat.v1.py_func: "py_function"},
        # Return Python lists whose length is static: iterating them is not control flow on a value.
        "static_length": {tf.unstack, tf.split, keras.ops.unstack, keras.ops.split},
        "static_calls": {keras.ops.shape, keras.ops.ndim, keras.backend.int_shape if hasattr(keras.backend, "int_shape") else len},
    }


@dataclass
class Finding:
    construct: str
    function: str
    file: str
    line: int
    code: str
    detail: str

    def record(self) -> dict:
        return {
            "construct": self.construct,
            "function": self.function,
            "file": self.file,
            "line": self.line,
            "code": self.code,
            "detail": self.detail,
        }


@dataclass
class _Function:
    """One function to analyze: its AST, where its lines are, and the names it resolves against."""

    func: types.FunctionType
    owner: type
    tree: ast.FunctionDef
    file: str
    first_line: int
    lines: list
    qualname: str

    @classmethod
    def read(cls, func, owner, roots) -> "_Function":
        lines, first_line = inspect.getsourcelines(func)
        tree = ast.parse(textwrap.dedent("".join(lines)))
        node = next(n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
        return cls(func, owner, node, display_path(inspect.getsourcefile(func), roots, func.__module__), first_line, lines, func.__qualname__)

    def line_of(self, node) -> int:
        return self.first_line + node.lineno - 1

    def code_at(self, node) -> str:
        return self.lines[node.lineno - 1].strip()


@dataclass
class _Analysis:
    layer_class: type
    roots: tuple
    known: dict
    weights: set
    findings: list = field(default_factory=list)
    analyzed: list = field(default_factory=list)
    _seen: set = field(default_factory=set)

    def function(self, func, owner, tensor_params: frozenset, depth: int) -> None:
        key = (func, tensor_params)
        if key in self._seen or depth > MAX_HELPER_DEPTH:
            return
        self._seen.add(key)
        fn = _Function.read(func, owner, self.roots)
        if fn.qualname not in self.analyzed:
            self.analyzed.append(fn.qualname)
        _FunctionScan(self, fn, tensor_params, depth).run()


class _FunctionScan:
    """Taint to a fixed point over the function's body, then one pass that records findings."""

    def __init__(self, analysis: _Analysis, fn: _Function, tensor_params: frozenset, depth: int):
        self.analysis = analysis
        self.fn = fn
        self.depth = depth
        self.tensors = set(tensor_params)
        self.local_imports: dict = {}
        self.assigned: set = set()
        self.python_callbacks: set = set()  # nested defs handed to tf.py_function: NumPy there is by design
        self.recording = False

    def run(self) -> None:
        body = self.fn.tree.body
        for node in ast.walk(self.fn.tree):
            self._note_binding(node)
        while True:
            before = len(self.tensors)
            for statement in body:
                self._visit(statement)
            if len(self.tensors) == before:
                break
        self.recording = True
        for statement in body:
            self._visit(statement)

    # -- names --------------------------------------------------------------------------------

    def _note_binding(self, node) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if isinstance(node, ast.Import):
                    target = alias.name if alias.asname else alias.name.split(".")[0]
                    self.local_imports[alias.asname or alias.name.split(".")[0]] = sys.modules.get(target)
                else:
                    module = sys.modules.get(node.module or "")
                    self.local_imports[alias.asname or alias.name] = getattr(module, alias.name, None) if module else None
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            self.assigned.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node is not self.fn.tree:
            self.assigned.add(node.name)

    def resolve(self, node):
        """The object an expression names (`np.mean`, `tf.py_function`), looked up without running code."""
        if isinstance(node, ast.Name):
            if node.id in self.local_imports:
                return self.local_imports[node.id]
            if node.id in self.assigned:
                return None
            globals_ = self.fn.func.__globals__
            return globals_.get(node.id, getattr(builtins, node.id, None))
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            if isinstance(base, types.ModuleType):
                return getattr(base, node.attr, None)
        return None

    # -- tensor-ness --------------------------------------------------------------------------

    def is_tensor(self, node) -> bool:
        if node is None:
            return False
        if isinstance(node, ast.Name):
            return node.id in self.tensors
        if isinstance(node, ast.Attribute):
            if node.attr in STATIC_ATTRIBUTES:
                return False
            if isinstance(node.value, ast.Name) and node.value.id == "self":
                return node.attr in self.analysis.weights
            return self.is_tensor(node.value)
        if isinstance(node, ast.Call):
            return self._call_is_tensor(node)
        if isinstance(node, ast.Compare):
            if all(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
                return False
            return self.is_tensor(node.left) or any(self.is_tensor(c) for c in node.comparators)
        if isinstance(node, (ast.Lambda, ast.Constant, ast.JoinedStr)):
            return False
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            return self.is_tensor(node.elt) or any(self.is_tensor(g.iter) for g in node.generators)
        if isinstance(node, ast.DictComp):
            return self.is_tensor(node.value) or any(self.is_tensor(g.iter) for g in node.generators)
        return any(self.is_tensor(child) for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr))

    def _call_is_tensor(self, node: ast.Call) -> bool:
        target = self.resolve(node.func)
        if isinstance(node.func, ast.Name) and node.func.id in STATIC_BUILTINS and target is getattr(builtins, node.func.id):
            return False
        if target is not None and _in(target, self.analysis.known["static_calls"]):
            return False
        if isinstance(node.func, ast.Attribute) and node.func.attr in STATIC_ATTRIBUTES and not isinstance(self.resolve(node.func.value), types.ModuleType):
            return False  # x.get_shape(), not tf.shape(x): a tensor
        arguments = [*node.args, *(k.value for k in node.keywords)]
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        return any(self.is_tensor(a) for a in arguments) or self.is_tensor(receiver)

    def _taint_target(self, target) -> None:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                self.tensors.add(node.id)

    # -- statements ---------------------------------------------------------------------------

    def _visit(self, node) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name in self.python_callbacks:
                return
            # A nested function (for tf.map_fn, tf.while_loop) is applied to tensors.
            for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
                self.tensors.add(arg.arg)
            for statement in node.body:
                self._visit(statement)
            return
        if isinstance(node, ast.ClassDef):
            return
        if isinstance(node, ast.Assign) and self.is_tensor(node.value):
            for target in node.targets:
                self._taint_target(target)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and node.value is not None and self.is_tensor(node.value):
            self._taint_target(node.target)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            if self.is_tensor(node.iter):
                self._taint_target(node.target)
                if not self._static_length(node.iter):
                    self._found("for_on_tensor", node, f"Python for over a tensor value: {ast.unparse(node.iter)}")
        elif isinstance(node, ast.If) and self.is_tensor(node.test):
            self._found("if_on_tensor", node, f"Python if on a tensor value: {ast.unparse(node.test)}")
        elif isinstance(node, ast.While) and self.is_tensor(node.test):
            self._found("while_on_tensor", node, f"Python while on a tensor value: {ast.unparse(node.test)}")
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None and self.is_tensor(item.context_expr):
                    self._taint_target(item.optional_vars)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                self._visit(child)
            elif isinstance(child, ast.expr):
                self._expression(child)

    def _expression(self, root) -> None:
        for node in ast.walk(root):
            if isinstance(node, ast.NamedExpr) and self.is_tensor(node.value):
                self._taint_target(node.target)
            elif isinstance(node, ast.IfExp) and self.is_tensor(node.test):
                self._found("if_on_tensor", node, f"Python conditional expression on a tensor value: {ast.unparse(node.test)}")
            elif isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, ast.Lambda):
                for arg in node.args.args:
                    self.tensors.add(arg.arg)

    def _call(self, node: ast.Call) -> None:
        target = self.resolve(node.func)
        name = ast.unparse(node.func)
        script_op = _lookup(target, self.analysis.known["script_ops"])
        if script_op is not None:
            wrapped = _keyword(node, "func", 0)
            if isinstance(wrapped, ast.Name):
                self.python_callbacks.add(wrapped.id)
            shown = ast.unparse(wrapped) if wrapped is not None else "?"
            self._found(script_op, node, f"{name}({shown}, ...) runs Python at call time; tfjs cannot run it")
            return
        tensor_args = [a for a in [*node.args, *(k.value for k in node.keywords)] if self.is_tensor(a)]
        if _is_numpy(target) and tensor_args:
            self._found("numpy_on_tensor", node, f"NumPy {name} applied to a tensor ({ast.unparse(tensor_args[0])})")
        elif (
            isinstance(node.func, ast.Attribute)
            and node.func.attr == "numpy"
            and not node.args
            and self.is_tensor(node.func.value)
        ):
            self._found("numpy_method", node, f"{ast.unparse(node.func.value)}.numpy() reads a tensor's value in Python")
        elif self.recording and isinstance(node.func, ast.Attribute):
            receiver = node.func.value
            if isinstance(receiver, ast.Name) and receiver.id == "self":
                self._helper(node, inspect.getmro(self.analysis.layer_class))
            elif isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name) and receiver.func.id == "super" and not receiver.args:
                mro = inspect.getmro(self.analysis.layer_class)
                self._helper(node, mro[mro.index(self.fn.owner) + 1 :] if self.fn.owner in mro else ())

    def _helper(self, node: ast.Call, classes) -> None:
        """`self.m(...)` or `super().m(...)` with m a method of the layer's own classes (the first of
        `classes` defining it): analyzed with the tensor-ness of its arguments."""
        owner = next((c for c in classes if node.func.attr in vars(c)), None)
        if owner is None or not is_user_class(owner):
            return
        method = vars(owner)[node.func.attr]
        if not isinstance(method, types.FunctionType):
            return
        params = inspect.signature(method).parameters
        names = [p for p in params if p != "self"]
        tensor_params = {names[i] for i, a in enumerate(node.args) if i < len(names) and self.is_tensor(a)}
        tensor_params |= {k.arg for k in node.keywords if k.arg in params and self.is_tensor(k.value)}
        try:
            self.analysis.function(method, owner, frozenset(tensor_params), self.depth + 1)
        except (OSError, TypeError):
            return

    def _static_length(self, iterable) -> bool:
        if not isinstance(iterable, ast.Call):
            return False
        target = self.resolve(iterable.func)
        if target is not None and _in(target, self.analysis.known["static_length"]):
            return True
        if isinstance(iterable.func, ast.Name) and iterable.func.id in ("enumerate", "zip", "reversed"):
            return all(self._static_length(a) or not self.is_tensor(a) for a in iterable.args)
        return False

    def _found(self, construct: str, node, detail: str) -> None:
        if not self.recording:
            return
        finding = Finding(construct, self.fn.qualname, self.fn.file, self.fn.line_of(node), self.fn.code_at(node), detail)
        if finding not in self.analysis.findings:
            self.analysis.findings.append(finding)


def _in(obj, objects) -> bool:
    return any(obj is o for o in objects)


def _lookup(obj, table: dict):
    return next((name for key, name in table.items() if obj is key), None) if obj is not None else None


def _keyword(node: ast.Call, name: str, position: int):
    for keyword in node.keywords:
        if keyword.arg == name:
            return keyword.value
    return node.args[position] if len(node.args) > position else None


def _is_numpy(obj) -> bool:
    if obj is None:
        return False
    if isinstance(obj, types.ModuleType):
        return obj.__name__.split(".")[0] == "numpy"
    module = getattr(obj, "__module__", None)
    return isinstance(module, str) and module.split(".")[0] == "numpy" and callable(obj)


def _tensor_parameters(func) -> frozenset:
    """call()'s parameters that hold tensors: all but self and training, and those whose default
    is a Python value other than None (flags such as `return_scores=False`)."""
    tensors = set()
    for name, param in inspect.signature(func).parameters.items():
        if name in STATIC_PARAMETERS:
            continue
        default = param.default
        if default is inspect.Parameter.empty or default is None:
            tensors.add(name)
    return frozenset(tensors)


def _weight_attributes(cls) -> set:
    """`self.<name>` assigned from add_weight / add_variable / a Variable in the layer's own classes."""
    names = set()
    for klass in [c for c in inspect.getmro(cls) if is_user_class(c)]:
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
                continue
            callee = node.value.func
            callee_name = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", "")
            if callee_name not in ("add_weight", "add_variable", "Variable"):
                continue
            for target in node.targets:
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                    names.add(target.attr)
    return names


def python_only_constructs(cls, roots=()) -> dict:
    """The manifest's `python_only` record of a custom layer class: what was analyzed and what was found."""
    owner = next((c for c in inspect.getmro(cls) if "call" in vars(c)), None)
    if owner is None or not is_user_class(owner):
        where = f"{owner.__module__}.{owner.__qualname__}" if owner is not None else "none"
        return {"analyzed": [], "unanalyzed": f"call() is not the user's: inherited from {where}", "findings": []}
    call = vars(owner)["call"]
    if not isinstance(call, types.FunctionType):
        return {"analyzed": [], "unanalyzed": f"{owner.__qualname__}.call is not a Python function", "findings": []}
    analysis = _Analysis(cls, tuple(roots), _framework_objects(), _weight_attributes(cls))
    try:
        analysis.function(call, owner, _tensor_parameters(call), 0)
    except (OSError, TypeError, SyntaxError) as exc:
        return {"analyzed": [], "unanalyzed": f"the source of {owner.__qualname__}.call cannot be read: {type(exc).__name__}: {exc}", "findings": []}
    findings = sorted(analysis.findings, key=lambda f: (f.file, f.line, f.construct))
    return {"analyzed": analysis.analyzed, "unanalyzed": None, "findings": [f.record() for f in findings]}
