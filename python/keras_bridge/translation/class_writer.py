"""A custom layer class → one TypeScript module: a `TranslatedLayer` subclass and its registration.

The constructor reads the layer's get_config() fields (Keras builds a layer as `cls(**config)`),
then runs the translated __init__; build() runs the translated build(); call() the translated call().
Sub-layers and weights live where the Python put them. Output shapes are not translated from
compute_output_shape (often written for one case only): the runtime finds them by running call()
(src/translated/translated-layer.ts).
"""
from __future__ import annotations

import ast
import types

from .._tf import keras
from . import values as v
from .class_context import KERAS_LAYER_ATTRIBUTES, ClassContext, is_builtin_keras_class, kind_of_live
from .expressions import literal
from .gaps import TranslationGap
from .names import local_name, ts_string
from .statements import FunctionTranslator, HelperMethods, nested_first_assignments, reassigned_names, ts_type

# Fields of Keras's base Layer config: the generated class passes them to tfjs's Layer, not to __init__.
BASE_FIELDS = frozenset({"name", "trainable", "dtype", "autocast", "activity_regularizer", "input_shape", "batch_input_shape", "batch_size"})


class StateTranslator(FunctionTranslator):
    """__init__ and build(): they may set `self.<attribute>` (config values, sub-layers, weights)."""

    def __init__(self, context, method, helpers, fields: dict):
        super().__init__(context, method, helpers)
        self.fields = fields

    def assign_attribute(self, attr: str, value_node, node) -> None:
        if attr in KERAS_LAYER_ATTRIBUTES:
            if attr == "supports_masking":
                self.emit(f"this.supportsMasking = {self.expr(value_node).code};")
                return
            if attr == "built":
                return  # TranslatedLayer.build() marks the layer built
            raise TranslationGap(node, f"setting Keras's own self.{attr} is not translated")
        try:
            value = self.expr(value_node)
        except TranslationGap as gap:
            if not is_initializer_name(attr):
                raise
            # Initializers only matter to a layer trained from scratch: converted weights are loaded from Keras.
            self.emit(f"// keras-bridge: self.{attr} is not translated ({gap.why}); weights are loaded from Keras.")
            self.context.notes.append((node, f"self.{attr} not translated: {gap.why}"))
            self.context.attribute_kinds[attr] = "dropped-initializer"
            return
        name = self.context.attribute_name(attr)
        kind = value.kind
        found, live = self.context.live_attribute(attr)
        if kind == "function" and found and callable(live):
            self.register_custom_activation(live, node)
        if kind == v.UNKNOWN and found:
            kind = kind_of_live(live)
        code = value.code
        if kind == v.LAYER or (kind == v.SEQUENCE and value.element == v.LAYER):
            # Named after the attribute unless the Python names it: tfjs's automatic names change
            # from one model instance to the next, and saved weights are found by name.
            named = isinstance(value_node, ast.Call) and any(k.arg == "name" for k in value_node.keywords)
            code = f"this.track({code}, {ts_string(track_key(attr))}{', true' if named else ''})"
        self.emit(f"this.{name} = {code};")
        self.context.attribute_kinds[attr] = kind
        self.fields[name] = field_type(kind, value, live if found else None)

    def register_custom_activation(self, fn, node) -> None:
        """An activation keras.activations.get() found among the user's or a library's registered
        functions (`keras_hub>gelu_approximate`): its body is translated as a module function and
        registered with registerActivation, where kops.activation() finds it by the same name."""
        if (getattr(fn, "__module__", "") or "").startswith("keras."):
            return
        name = keras.saving.get_registered_name(fn)
        if not isinstance(fn, types.FunctionType):
            raise TranslationGap(node, f"activation {name} is not a plain function")
        before = len(self.gaps)
        self.helpers.call_function(node, fn, [v.tensor("x")], self)
        if len(self.gaps) > before:
            return
        self.helpers.translated[fn.__name__]["module_level"] = True
        self.context.activations[name] = local_name(fn.__name__)

    def add_weight(self, node: ast.Call) -> v.Value:
        args, kwargs = self.arguments(node)
        names = ["shape", "initializer", "dtype", "trainable", "autocast", "regularizer", "constraint", "aggregation", "overwrite_with_gradient", "name"]
        given = dict(zip(names, args))
        given.update(kwargs)
        fields = []
        for key in ("name", "shape", "initializer", "dtype", "trainable", "constraint"):
            if key in given:
                value = given[key]
                fields.append(f"{key}: {value.code}")
        if "regularizer" in given and given["regularizer"].kind != v.NONE:
            self.context.notes.append((node, "add_weight(regularizer=...) left out: it only adds a training loss, which parity does not compare"))
        attribute = getattr(node, "_assigned_attribute", None)
        if "name" not in given and attribute:
            # Keras names an unnamed weight from a per-process counter (variable, variable_1, ...);
            # the attribute's name is stable, and weights pair with Keras's by order then.
            fields.insert(0, f"name: {ts_string(attribute.lstrip('_'))}")
        return v.Value(f"this.kerasWeight({{ {', '.join(fields)} }})", v.WEIGHT)

    def _stmt_Assign(self, node: ast.Assign) -> None:
        target = node.targets[0] if len(node.targets) == 1 else None
        if isinstance(target, ast.Attribute) and isinstance(node.value, ast.Call):
            node.value._assigned_attribute = target.attr
        super()._stmt_Assign(node)


def is_initializer_name(name: str) -> bool:
    """Attributes and arguments that only shape training from scratch (weights are loaded from Keras)
    or training losses parity does not compare."""
    return name.lstrip("_").endswith(("initializer", "regularizer"))


def track_key(attr: str) -> str:
    """The key a sub-layer attribute is tracked under in TypeScript (and in `sub_layers` records)."""
    return attr.lstrip("_") or attr


def keras_sub_layer_names(layer) -> dict:
    """{track key: {"name": Keras's name, "sub_layers": ...}} for a layer's sub-layer attributes (lists
    as key_0, key_1 ...): the converted layer names its sub-layers so, so that their weights are named
    by their Keras paths and training-mode parity finds their random draws."""
    out = {}
    for attr, value in vars(layer).items():
        items = [(track_key(attr), value)] if isinstance(value, keras.layers.Layer) else []
        if isinstance(value, (list, tuple)) and value and all(isinstance(x, keras.layers.Layer) for x in value):
            items = [(f"{track_key(attr)}_{i}", x) for i, x in enumerate(value)]
        for key, sub in items:
            nested = keras_sub_layer_names(sub) if not is_builtin_keras_class(type(sub)) else {}
            out[key] = {"name": sub.name, **({"sub_layers": nested} if nested else {})}
    return out


def field_type(kind: str, value: v.Value, live) -> str:
    if kind == v.LAYER and value.meta.get("nullable"):
        return "tf.layers.Layer | null"
    if kind == v.SEQUENCE and value.element == v.LAYER:
        return "tf.layers.Layer[]"
    if kind == "function":
        return "(x: tf.Tensor) => tf.Tensor"
    if kind == "seed":
        return "null"
    if kind == v.WEIGHT:
        return "tf.LayerVariable"
    if kind == v.SEQUENCE and value.element == v.NUMBER:
        return "number[]"
    return ts_type(kind) if kind != v.SEQUENCE else "any[]"


def zod_for(value) -> str:
    """A schema from one instance's value, loose where another instance may differ: any number (0 and
    0.1 alike), None allowed, and a Keras object either by name or serialized ({class_name, config})."""
    if isinstance(value, bool):
        return "z.boolean()"
    if isinstance(value, (int, float)):
        return "z.number().nullable()"
    if isinstance(value, str):
        return "z.string().nullable()"
    if isinstance(value, (list, tuple)):
        kinds = {zod_for(x) for x in value}
        if len(kinds) == 1:
            return f"z.array({kinds.pop()}).nullable()"
        return "z.array(z.unknown()).nullable()"
    if isinstance(value, dict):
        return "z.union([z.string(), z.record(z.unknown())]).nullable()"
    return "z.unknown()"


class CallStructure:
    """How the model calls the layer (its first call): several tensors, one list, or one tensor."""

    def __init__(self, positional: int, first_is_list: bool):
        self.positional = positional
        self.first_is_list = first_is_list


def translate_class(cls, instance, source: dict, structure: CallStructure, config: dict) -> dict:
    """The TypeScript module for `cls` and what it needs; `gaps` lists what could not be translated."""
    context = ClassContext(cls, instance, source["text"])
    helpers = HelperMethods(context)
    fields: dict = {}
    gaps: list = []
    sections = {}

    own_config = {k: val for k, val in config.items() if k not in BASE_FIELDS}
    sections["constructor"] = constructor_lines(context, helpers, fields, own_config, gaps)
    if "build" in context.methods:
        sections["build"] = build_lines(context, helpers, fields, structure, gaps)
    if "call" not in context.methods:
        gaps.append(TranslationGap(context.class_node, "the class defines no call()"))
    else:
        sections["call"] = call_lines(context, helpers, structure, gaps, "call")
    if "compute_mask" in context.methods:
        sections["computeMask"] = call_lines(context, helpers, structure, gaps, "compute_mask")
    return {
        "context": context,
        "fields": fields,
        "sections": sections,
        "helpers": helpers,
        "gaps": gaps,
        "config": own_config,
    }


def constructor_lines(context: ClassContext, helpers, fields, own_config: dict, gaps: list) -> list:
    fn = context.methods.get("__init__")
    translator = StateTranslator(context, "__init__", helpers, fields)
    translator.depth = 2
    if fn is None:
        return []
    translator.reassigned = reassigned_names(fn)
    if "compute_mask" in context.methods:
        # Keras 3 turns supports_masking on for a layer that overrides compute_mask.
        translator.emit("this.supportsMasking = true;")
    params = fn.args.args[1:]
    defaults = fn.args.defaults
    first_default = len(params) - len(defaults)
    for i, arg in enumerate(params):
        name = local_name(arg.arg)
        default = defaults[i - first_default] if i >= first_default else None
        if arg.arg in BASE_FIELDS:
            translator.emit(f"const {name} = this.configValue({ts_string(arg.arg)}{', ' + translator.expr(default).code if default is not None else ''});")
            translator.scope[arg.arg] = v.Value(name, v.kind_of_python(config_value(own_config, arg.arg)))
            continue
        kind = v.kind_of_python(own_config.get(arg.arg)) if arg.arg in own_config else v.UNKNOWN
        if default is not None:
            default_value = translator.expr(default)
            kind = kind if kind != v.UNKNOWN else default_value.kind
            nullable = " | null" if default_value.kind == v.NONE and kind != v.NONE else ""
            translator.emit(f"const {name}: {ts_type(kind)}{nullable} = this.configValue({ts_string(arg.arg)}, {default_value.code});")
        else:
            translator.emit(f"const {name}: {ts_type(kind)} = this.configValue({ts_string(arg.arg)});")
        live = own_config.get(arg.arg)
        translator.scope[arg.arg] = v.Value(name, kind, items=literal(live).items if isinstance(live, (list, tuple)) else None, python=live)
        translator.declared.add(arg.arg)
    for arg in fn.args.kwonlyargs:
        gaps.append(TranslationGap(fn, f"keyword-only argument {arg.arg} of __init__ is not translated"))
    if fn.args.kwarg is not None and any(isinstance(n, ast.Name) and n.id == fn.args.kwarg.arg for n in ast.walk(fn)):
        # **kwargs: the config's fields that __init__ does not name (Keras's base fields among them).
        name = local_name(fn.args.kwarg.arg)
        named = ", ".join(ts_string(a.arg) for a in params)
        translator.emit(f"const {name}: Record<string, unknown> = this.otherConfig([{named}]);")
        translator.scope[fn.args.kwarg.arg] = v.Value(name, v.DICT)
        translator.declared.add(fn.args.kwarg.arg)
    translator.body(fn.body)
    gaps.extend(translator.gaps)
    return translator.lines


def config_value(config: dict, key: str):
    return config.get(key)


def input_kinds(structure: CallStructure) -> str:
    return "list" if structure.positional > 1 or structure.first_is_list else "single"


def build_lines(context: ClassContext, helpers, fields, structure: CallStructure, gaps: list) -> list:
    fn = context.methods["build"]
    translator = StateTranslator(context, "build", helpers, fields)
    translator.depth = 2
    translator.reassigned = reassigned_names(fn)
    params = fn.args.args[1:]
    if params:
        name = local_name(params[0].arg)
        if input_kinds(structure) == "list":
            translator.emit(f"const {name} = shapes as number[][];")
            translator.scope[params[0].arg] = v.Value(name, v.SEQUENCE, element=v.SHAPE)
        else:
            translator.emit(f"const {name} = kops.singleShape(shapes);")
            translator.scope[params[0].arg] = v.Value(name, v.SHAPE)
        translator.declared.add(params[0].arg)
    for hoisted in nested_first_assignments(fn):
        translator.emit(f"let {local_name(hoisted)};")
        translator.declared.add(hoisted)
    translator.body(fn.body)
    gaps.extend(translator.gaps)
    return translator.lines


def call_lines(context: ClassContext, helpers, structure: CallStructure, gaps: list, method: str) -> list:
    fn = context.methods[method]
    translator = FunctionTranslator(context, method, helpers)
    translator.depth = 3
    translator.reassigned = reassigned_names(fn)
    params = [a.arg for a in fn.args.args[1:]]
    defaults = fn.args.defaults
    first_default = len(params) - len(defaults)
    tensor_params = [p for p in params if p not in ("training", "mask")][: max(structure.positional, 1)]
    if method == "compute_mask":
        tensor_params = params[:1]
        translator.depth = 3
    # A parameter is declared here, so any assignment to it in the body reassigns it.
    assigned = {n.id for s in ast.walk(fn) if isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign)) for t in (s.targets if isinstance(s, ast.Assign) else [s.target]) for n in ast.walk(t) if isinstance(n, ast.Name)}
    declare = "let" if set(tensor_params) & (translator.reassigned | assigned) else "const"
    if len(tensor_params) == 1:
        name = local_name(tensor_params[0])
        if structure.first_is_list:
            translator.emit(f"{declare} {name} = tensors as tf.Tensor[];")
            translator.scope[tensor_params[0]] = v.Value(name, v.SEQUENCE, element=v.TENSOR)
        else:
            translator.emit(f"{declare} {name}: tf.Tensor = kops.single(tensors);")
            translator.scope[tensor_params[0]] = v.Value(name, v.TENSOR)
    else:
        names = [local_name(p) for p in tensor_params]
        translator.emit(f"{declare} [{', '.join(names)}] = tensors as tf.Tensor[];")
        for p, n in zip(tensor_params, names):
            translator.scope[p] = v.Value(n, v.TENSOR)
    translator.declared.update(tensor_params)
    if method == "call":
        translator.emit("const training = kops.trainingArg(kwargs);")
        translator.training = v.Value("training", v.BOOL)
        translator.scope["training"] = translator.training
        translator.declared.add("training")
    for i, p in enumerate(params):
        if p in tensor_params or p == "training":
            continue
        if p == "mask":
            source = "mask" if method == "compute_mask" else "kops.maskArg(kwargs)"
            if method != "compute_mask":
                translator.emit(f"{'let' if 'mask' in translator.reassigned else 'const'} mask = {source};")
            translator.scope[p] = v.Value("mask", v.TENSOR)
            translator.declared.add(p)
            continue
        if i >= first_default:
            default = translator.expr(defaults[i - first_default])
            name = local_name(p)
            declare = "let" if p in translator.reassigned else "const"
            if method == "call":
                # A keyword argument of the model's call (a tensor such as padding_mask=, or a value), else the default.
                kind = v.TENSOR if default.kind == v.NONE else default.kind
                annotation = ": tf.Tensor | null" if kind == v.TENSOR else ""
                translator.emit(f"{declare} {name}{annotation} = kops.kwarg(kwargs, {ts_string(p)}, {default.code});")
                translator.scope[p] = v.Value(name, kind, python=default.python)
            else:
                translator.emit(f"{declare} {name} = {default.code};")
                translator.scope[p] = v.Value(name, default.kind, python=default.python)
            translator.declared.add(p)
        else:
            gaps.append(TranslationGap(fn, f"{method}() parameter {p} without a default is not among the tensors the model passes"))
    for hoisted in nested_first_assignments(fn):
        if hoisted not in translator.declared:
            translator.emit(f"let {local_name(hoisted)};")
            translator.declared.add(hoisted)

    def check_return(value, node):
        if method == "call" and not (value.is_tensor or (value.kind == v.SEQUENCE and value.element in (v.TENSOR, None))):
            raise TranslationGap(node, f"call() returns a {value.kind} value, not tensors")

    translator.returned = check_return
    translator.body(fn.body)
    gaps.extend(translator.gaps)
    return translator.lines
