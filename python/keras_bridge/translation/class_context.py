"""What the translator knows about one custom layer class: its methods' ASTs, its module's names,
and what each `self.<attribute>` holds on a live instance (a sub-layer, a weight, a config value)."""
from __future__ import annotations

import ast
import builtins
import inspect
import sys
import textwrap

from .._tf import keras
from . import values as v
from .names import camel

# tfjs Layer members a Python attribute must not overwrite; such attributes get a `py` prefix.
TFJS_LAYER_MEMBERS = frozenset(
    {
        "name", "trainable", "built", "dtype", "weights", "inputs", "outputs", "input", "output", "id", "losses",
        "updates", "stateful", "inputSpec", "batchInputShape", "inboundNodes", "outboundNodes", "trainableWeights",
        "nonTrainableWeights", "activityRegularizer", "fastWeightInitDuringBuild", "call", "build", "apply",
        "getConfig", "computeOutputShape", "computeMask", "dispose", "setWeights", "getWeights", "addWeight",
        "track", "callLayer", "subLayers", "pythonConfig", "kerasWeight", "translatedCall",
    }
)
# Attributes Keras's own Layer keeps; reading them is fine, the translator does not declare them.
KERAS_LAYER_ATTRIBUTES = frozenset({"supports_masking", "name", "trainable", "built", "dtype", "compute_dtype", "variable_dtype"})


class ClassContext:
    def __init__(self, cls, instance, source_text: str):
        self.cls = cls
        self.instance = instance
        self.module = sys.modules.get(cls.__module__)
        self.globals = dict(vars(self.module)) if self.module else {}
        self.source_lines = textwrap.dedent(source_text).splitlines()
        tree = ast.parse(textwrap.dedent(source_text))
        self.class_node = next(n for n in tree.body if isinstance(n, ast.ClassDef))
        self.methods = {n.name: n for n in self.class_node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.class_constants = {
            t.id: n.value
            for n in self.class_node.body
            if isinstance(n, ast.Assign)
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        self.attribute_kinds: dict = {}
        self.attribute_types: dict = {}
        self.custom_dependencies: list = []  # user classes the generated code constructs
        self.notes: list = []  # (node, text): what was left out on purpose, said in the record
        self.activations: dict = {}  # Keras registered name → module-level TypeScript function (registerActivation)

    @classmethod
    def for_function(cls, fn) -> "ClassContext":
        """A context with no class: a plain function translated on its own (activation_functions.py)."""
        context = cls.__new__(cls)
        context.cls, context.instance, context.module = None, None, None
        context.globals = dict(fn.__globals__)
        context.source_lines, context.class_node, context.methods, context.class_constants = [], None, {}, {}
        context.attribute_kinds, context.attribute_types, context.custom_dependencies = {}, {}, []
        context.notes, context.activations = [], {}
        return context

    # --- names -----------------------------------------------------------------------------
    def lookup_global(self, name: str):
        """(found, live object) for a module-level or builtin name."""
        if name in self.globals:
            return True, self.globals[name]
        if hasattr(builtins, name):
            return True, getattr(builtins, name)
        return False, None

    def attribute_name(self, python_name: str) -> str:
        name = camel(python_name)
        return f"py{name[:1].upper()}{name[1:]}" if name in TFJS_LAYER_MEMBERS and python_name not in ("supports_masking",) else name

    def live_attribute(self, name: str):
        """(found, value) of `self.<name>` on the live instance; never runs a property."""
        if self.instance is None:
            return False, None
        try:
            raw = inspect.getattr_static(self.instance, name)
        except AttributeError:
            return False, None
        if isinstance(raw, property):
            return False, None
        return True, getattr(self.instance, name)

    def kind_of_attribute(self, name: str) -> str:
        if name in self.attribute_kinds:
            return self.attribute_kinds[name]
        found, value = self.live_attribute(name)
        if not found:
            return v.UNKNOWN
        return kind_of_live(value)


def kind_of_live(value) -> str:
    if isinstance(value, keras.layers.Layer):
        return v.LAYER
    if isinstance(value, keras.Variable):
        return v.WEIGHT
    if isinstance(value, (list, tuple)) and value and all(isinstance(x, keras.layers.Layer) for x in value):
        return v.SEQUENCE
    return v.kind_of_python(value)


def is_keras_layer_class(obj) -> bool:
    return isinstance(obj, type) and issubclass(obj, keras.layers.Layer)


def is_builtin_keras_class(cls) -> bool:
    return (cls.__module__ or "").split(".")[0] == "keras"


def is_initializer_class(obj) -> bool:
    """Keras objects a layer configures weights with (initializers, constraints, regularizers),
    written in TypeScript as Keras serializes them: {class_name, config}."""
    bases = (keras.initializers.Initializer, keras.constraints.Constraint, keras.regularizers.Regularizer)
    return isinstance(obj, type) and issubclass(obj, bases)
