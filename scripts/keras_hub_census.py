"""Census of keras_hub's layer classes for issue 11 (custom layers without a hand-written twin).

    .venv/bin/python scripts/keras_hub_census.py > docs/keras-hub-census.md
    .venv/bin/python scripts/keras_hub_census.py --routes > docs/keras-hub-census.md   # also reruns the route census

`--routes` (several minutes; needs the TypeScript build, `npx tsc -p tsconfig.json`) converts every
modeling layer class by keras-bridge's routes (scripts/keras_hub_routes.py) and rewrites
docs/keras-hub-census.json; without it, the route section is rendered from that JSON.

Needs the optional keras_hub (python/requirements-thirdparty.lock). Nothing is downloaded: every
instance is built from constructor arguments.

Classes: every keras.layers.Layer exported as keras_hub.layers.*, every Layer class defined in a
module under keras_hub.src.layers.modeling, and every keras_hub class found inside the tiny
backbones of fixtures/models/keras_hub_models.py (the layers its models really use). Each gets an
instance: the one inside a backbone when there is one, else one made from TINY_ARGUMENTS below (or
no arguments), built by calling it on a small input where CALL_INPUTS says how. For each class
the census records: whether it defines get_config (itself or a keras_hub base) and whether
from_config(get_config()) rebuilds it; its call() signature (training, mask, tensor parameters);
whether it is a keras.Model subclass; and the Python-only constructs that keras_bridge's static
analysis finds in its call() (python/keras_bridge/python_only.py). Last, each factory of
keras_hub_models.py is exported with keras_bridge.export, and the outcome recorded: written,
refused (ExportError, the CLI's exit code 2) or an internal error (exit code 1).
"""
from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO_ROOT = Path(__file__).resolve().parents[1]
for entry in (REPO_ROOT / "python", REPO_ROOT / "fixtures" / "models", REPO_ROOT / "scripts"):
    sys.path.insert(0, str(entry))

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_hub_models  # noqa: E402
import keras_hub_routes  # noqa: E402
import keras_bridge  # noqa: E402
from keras_bridge.errors import ExportError  # noqa: E402
from keras_bridge.python_only import python_only_constructs  # noqa: E402

if keras_hub_models.keras_hub is None:
    sys.exit("keras_hub is not installed: .venv/bin/pip install --no-deps -r python/requirements-thirdparty.lock")
import keras_hub  # noqa: E402

# Constructor arguments for the public/modeling layers that need some, as small as they go.
TINY_ARGUMENTS = {
    "CachedMultiHeadAttention": dict(num_heads=2, key_dim=4),
    "FNetEncoder": dict(intermediate_dim=16),
    "MaskedLMHead": dict(vocabulary_size=32, activation="softmax"),
    "PositionEmbedding": dict(sequence_length=8),
    "ReversibleEmbedding": dict(input_dim=32, output_dim=8),
    "RotaryEmbedding": dict(),
    "SinePositionEncoding": dict(),
    "TokenAndPositionEmbedding": dict(vocabulary_size=32, sequence_length=8, embedding_dim=8),
    "TransformerDecoder": dict(intermediate_dim=16, num_heads=2),
    "TransformerEncoder": dict(intermediate_dim=16, num_heads=2),
    "RMSNormalization": dict(input_dim=8),
    "AlibiBias": dict(),
    "MaskedLMMaskGenerator": dict(vocabulary_size=32, mask_selection_rate=0.5, mask_token_id=1),
    "MultiSegmentPacker": dict(sequence_length=8, start_value=1, end_value=2),
    "StartEndPacker": dict(sequence_length=8),
    "RandomDeletion": dict(rate=0.5),
    "RandomSwap": dict(rate=0.5),
    "AnchorGenerator": dict(bounding_box_format="xyxy", min_level=3, max_level=4, num_scales=1, aspect_ratios=[1.0], anchor_size=4),
    "BoxMatcher": dict(thresholds=[0.5], match_values=[-1, 1]),
    "NonMaxSuppression": dict(bounding_box_format="xyxy", from_logits=True),
}
SEQUENCE = np.random.default_rng(0).normal(size=(2, 8, 8)).astype("float32")
TOKENS = np.random.default_rng(0).integers(1, 32, size=(2, 8)).astype("int32")
# How to call an instance that was not built inside a backbone, so that build() runs: (args, kwargs)
# of sample arrays. The route census calls a fresh copy on keras.Input tensors of the same shapes.
CALL_INPUTS = {
    "CachedMultiHeadAttention": ((SEQUENCE, SEQUENCE), {}),
    "FNetEncoder": ((SEQUENCE,), {}),
    "MaskedLMHead": ((SEQUENCE,), {"mask_positions": TOKENS[:, :2] % 8}),
    "PositionEmbedding": ((SEQUENCE,), {}),
    "ReversibleEmbedding": ((TOKENS,), {}),
    "RotaryEmbedding": ((SEQUENCE[:, :, None, :],), {}),
    "SinePositionEncoding": ((SEQUENCE,), {}),
    "TokenAndPositionEmbedding": ((TOKENS,), {}),
    "TransformerDecoder": ((SEQUENCE,), {}),
    "TransformerEncoder": ((SEQUENCE,), {}),
    "RMSNormalization": ((SEQUENCE,), {}),
    "AlibiBias": ((np.zeros((2, 2, 8, 8), "float32"),), {}),
    "AnchorGenerator": ((np.zeros((2, 16, 16, 3), "float32"),), {}),
    "BoxMatcher": ((np.random.default_rng(0).uniform(size=(2, 4, 5)).astype("float32"),), {}),
    "NonMaxSuppression": ((np.random.default_rng(0).uniform(size=(2, 6, 4)).astype("float32"),
                           np.random.default_rng(1).normal(size=(2, 6, 3)).astype("float32")), {}),
}
TINY_BACKBONES = (
    keras_hub_models.bert_model,
    keras_hub_models.gpt2_model,
    keras_hub_models.vit_model,
    lambda: keras_hub.models.LlamaBackbone(vocabulary_size=32, num_layers=1, num_query_heads=2, hidden_dim=8,
                                           intermediate_dim=16, num_key_value_heads=1),
    lambda: keras_hub.models.DistilBertBackbone(vocabulary_size=32, num_layers=1, num_heads=2, hidden_dim=8,
                                                intermediate_dim=16, max_sequence_length=8),
    lambda: keras_hub.models.ResNetBackbone(input_conv_filters=[64], input_conv_kernel_sizes=[3],
                                            stackwise_num_filters=[64], stackwise_num_blocks=[1],
                                            stackwise_num_strides=[1], block_type="basic_block",
                                            image_shape=(16, 16, 3)),
)
BACKBONE_NAMES = ("BertBackbone (bert_model)", "GPT2Backbone (gpt2_model)", "ViTBackbone (vit_model)",
                  "LlamaBackbone", "DistilBertBackbone", "ResNetBackbone")
STATIC_PARAMETERS = {"self", "training", "mask"}


def is_layer_class(obj) -> bool:
    return isinstance(obj, type) and issubclass(obj, keras.layers.Layer)


def classes_to_survey() -> dict:
    """qualified name -> (class, where it was found)."""
    found = {}

    def add(cls, origin):
        key = f"{cls.__module__}.{cls.__qualname__}"
        found.setdefault(key, (cls, set()))[1].add(origin)

    for name in dir(keras_hub.layers):
        obj = getattr(keras_hub.layers, name)
        if is_layer_class(obj):
            add(obj, "keras_hub.layers")
    modeling = importlib.import_module("keras_hub.src.layers.modeling")
    for module_info in pkgutil.iter_modules(modeling.__path__):
        module = importlib.import_module(f"{modeling.__name__}.{module_info.name}")
        for obj in vars(module).values():
            if is_layer_class(obj) and obj.__module__ == module.__name__:
                add(obj, "modeling")
    return found


def backbone_instances(calls: dict | None = None) -> tuple[dict, list]:
    """The first instance of each keras_hub class inside the tiny backbones, and their sizes.

    `calls`, if given, receives the arguments of each keras_hub layer's first call, by id(layer).
    """
    instances, sizes = {}, []
    for name, factory in zip(BACKBONE_NAMES, TINY_BACKBONES, strict=True):
        keras.utils.set_random_seed(0)
        with keras_hub_routes.recording_calls(calls if calls is not None else {}):
            model = factory()
            # Layers whose caller has compute_output_shape are not called while the graph is made:
            # an eager run on ones gives them a call (and values) too.
            model(keras.tree.map_structure(lambda t: np.ones((2, *(d or 5 for d in t.shape[1:])), t.dtype), model.input))
        sizes.append((name, model.count_params()))
        for layer in model._flatten_layers(include_self=True):
            cls = type(layer)
            if cls.__module__.startswith("keras_hub."):
                instances.setdefault(f"{cls.__module__}.{cls.__qualname__}", (layer, name))
    return instances, sizes


def get_config_owner(cls) -> str:
    owner = next((c for c in inspect.getmro(cls) if "get_config" in vars(c)), None)
    if owner is None:
        return "none"
    if owner.__module__.startswith("keras_hub."):
        return "own" if owner is cls else f"base {owner.__qualname__}"
    return f"inherited ({owner.__module__.split('.')[0]})"


def call_signature(cls) -> dict:
    call = getattr(cls, "call", None)
    if call is None:
        return {"text": "(none)", "training": False, "mask": False, "required": 0, "optional": 0}
    parameters = inspect.signature(call).parameters
    named = [p for p in parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    others = [p for p in named if p.name not in STATIC_PARAMETERS]
    text = ", ".join(p.name if p.default is p.empty else f"{p.name}=" for p in named if p.name != "self")
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        text += ", **kw"
    return {
        "text": f"({text})",
        "training": "training" in parameters,
        "mask": any("mask" in name for name in parameters),
        # Required parameters are the inputs every call passes; optional ones may be tensors
        # (encoder_sequence, attention masks, caches) or Python flags (start_index, use_causal_mask).
        "required": sum(p.default is p.empty for p in others),
        "optional": sum(p.default is not p.empty for p in others),
    }


def instance_for(cls, backbone_layers) -> tuple[object, str]:
    key = f"{cls.__module__}.{cls.__qualname__}"
    if key in backbone_layers:
        layer, backbone = backbone_layers[key]
        return layer, f"in {backbone}"
    arguments = TINY_ARGUMENTS.get(cls.__name__)
    if arguments is None:
        try:
            inspect.signature(cls).bind()
        except TypeError:
            return None, "not made: needs constructor arguments the census does not know"
        arguments = {}
    try:
        layer = cls(**arguments)
    except Exception as exc:  # report any constructor failure as a census fact
        return None, f"constructor raised {type(exc).__name__}: {str(exc).splitlines()[0][:80]}"
    if cls.__name__ in CALL_INPUTS:
        args, kwargs = CALL_INPUTS[cls.__name__]
        try:
            layer(*args, **kwargs)
            return layer, "made and called"
        except Exception as exc:
            return layer, f"made; call raised {type(exc).__name__}"
    return layer, "made, not called"


def round_trip(cls, layer) -> str:
    if layer is None:
        return "-"
    try:
        cls.from_config(layer.get_config())
        return "yes"
    except Exception as exc:
        # Keras wraps the constructor's error ("Error when deserializing ... Exception encountered: X").
        text = str(exc).rpartition("Exception encountered:")[2].strip() or str(exc)
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        return f"no ({type(exc).__name__}: {first[:90]})"


def python_only(cls) -> tuple[str, Counter]:
    record = python_only_constructs(cls, [])
    if record["unanalyzed"]:
        return "not analyzed: " + record["unanalyzed"], Counter()
    constructs = Counter(f["construct"] for f in record["findings"])
    text = ", ".join(f"{c} x{n}" for c, n in sorted(constructs.items())) or "none"
    return text, constructs


def kind(cls) -> str:
    if issubclass(cls, keras.Model):
        return "Model"
    module = cls.__module__
    if ".preprocessing." in module or "converter" in module or "tokenizer" in module:
        return "preprocessing"
    return "layer"


def main():
    rerun_routes = "--routes" in sys.argv[1:]
    surveyed = classes_to_survey()
    calls_by_id = {}
    backbone_layers, sizes = backbone_instances(calls_by_id)
    for key, (layer, backbone) in backbone_layers.items():
        surveyed.setdefault(key, (type(layer), set()))[1].add("used by " + backbone.split(" ")[0])
    rows, totals, instances = [], Counter(), {}
    for key in sorted(surveyed, key=lambda k: (kind(surveyed[k][0]), k)):
        cls, origins = surveyed[key]
        layer, instance = instance_for(cls, backbone_layers)
        signature = call_signature(cls)
        only_text, constructs = python_only(cls)
        instances[key] = (cls, layer)
        row = {
            "key": key,
            "class": cls.__qualname__,
            "module": cls.__module__.removeprefix("keras_hub.src."),
            "found": ", ".join(sorted(origins)),
            "kind": kind(cls),
            "instance": instance,
            "get_config": get_config_owner(cls),
            "round_trip": round_trip(cls, layer),
            "signature": signature,
            "python_only": only_text,
        }
        rows.append(row)
        totals["classes"] += 1
        totals[f"kind {row['kind']}"] += 1
        totals["instance built"] += layer is not None
        totals["get_config own or keras_hub base"] += row["get_config"] == "own" or row["get_config"].startswith("base")
        totals["from_config(get_config()) rebuilds"] += row["round_trip"] == "yes"
        totals["call takes training"] += signature["training"]
        totals["call has a mask-like parameter (mask, padding_mask, ...)"] += signature["mask"]
        totals["call requires 2+ inputs"] += signature["required"] >= 2
        totals["call has optional parameters besides training/mask"] += signature["optional"] >= 1
        totals["with a python-only finding"] += bool(constructs)
        for construct, count in constructs.items():
            totals[f"finding {construct}"] += count
    if rerun_routes:
        started = time.monotonic()
        calls = sample_calls(instances, backbone_layers, calls_by_id)
        routes = keras_hub_routes.route_census(rows, instances, calls, TINY_ARGUMENTS,
                                               progress=lambda line: print(line, file=sys.stderr))
        keras_hub_routes.write_routes(routes, time.monotonic() - started)
    print(render(rows, totals, sizes, export_outcomes()))
    print(keras_hub_routes.render_routes(rows, keras_hub_routes.read_routes()))


def sample_calls(instances, backbone_layers, calls_by_id) -> dict:
    """class key -> sample calls (args, kwargs) to wrap it by: the call inside a backbone first
    (padding masks, as models pass them), then CALL_INPUTS."""
    calls = {key: [calls_by_id[id(layer)][1:]] for key, (layer, _) in backbone_layers.items() if id(layer) in calls_by_id}
    for key, (cls, _) in instances.items():
        if cls.__name__ in CALL_INPUTS:
            calls.setdefault(key, []).append(CALL_INPUTS[cls.__name__])
    return calls


def export_outcomes() -> list:
    outcomes = []
    for name, backbone in keras_hub_models.FACTORIES.items():
        keras.utils.set_random_seed(0)
        model = getattr(keras_hub_models, name)()
        with tempfile.TemporaryDirectory() as out:
            try:
                keras_bridge.export(model, os.path.join(out, "bundle"))
                outcome = "bundle written"
            except ExportError as exc:
                outcome = f"refused (ExportError): {exc}"
            except Exception as exc:
                outcome = f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())[:160]}"
        outcomes.append((name, backbone, outcome))
    return outcomes


def render(rows, totals, sizes, outcomes) -> str:
    lines = [
        "# keras_hub layer census",
        "",
        "Generated by `.venv/bin/python scripts/keras_hub_census.py > docs/keras-hub-census.md` with",
        f"keras_hub {keras_hub.__version__}, Keras {keras.__version__} (python/requirements-thirdparty.lock;",
        "nothing downloaded: every instance is built from constructor arguments). What each column means",
        "is in the script's docstring. `python-only` is keras_bridge's static analysis of call()",
        "(python/keras_bridge/python_only.py): constructs a TypeScript twin cannot reproduce.",
        "",
        "## Totals",
        "",
        "| figure | count |",
        "|---|---|",
    ]
    lines += [f"| {name} | {count} |" for name, count in sorted(totals.items())]
    lines += ["", "Tiny backbones built (weights): " + ", ".join(f"{n} {p}" for n, p in sizes) + ".", ""]
    lines += [
        "Python-only findings assume call()'s parameters are tensors. Preprocessing layers (tokenizers'",
        "packers, image and audio converters) are mostly called on Python lists, strings or NumPy",
        "arrays before the model, so their findings say they are Python programs, as they are; an",
        "ImageConverter subclass repeats the findings of the call() it inherits.",
        "",
        "## Export of fixtures/models/keras_hub_models.py",
        "",
        "| factory | backbone | keras_bridge.export |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {backbone} | {outcome.replace('|', '/')} |" for name, backbone, outcome in outcomes]
    lines.append("")
    lines += [
        "## Classes",
        "",
        "| class | module | found in | kind | instance | get_config | from_config | call(...) | training | mask-like | required | optional | python-only |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        s = r["signature"]
        lines.append(
            f"| {r['class']} | {r['module']} | {r['found']} | {r['kind']} | {r['instance']} | {r['get_config']} | "
            f"{r['round_trip']} | `{s['text']}` | {'yes' if s['training'] else ''} | {'yes' if s['mask'] else ''} | "
            f"{s['required']} | {s['optional']} | {r['python_only']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
