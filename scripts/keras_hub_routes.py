"""Which custom-layer route each keras_hub modeling layer class converts by (issue 11).

Called by scripts/keras_hub_census.py (`--routes` reruns it; slow, several minutes): for every
class of kind "layer" in the census, a fresh tiny instance (from_config of the census's instance:
nothing downloaded) is called on keras.Input tensors shaped as that instance was called (inside a
tiny backbone: that call's arguments; else the census's CALL_INPUTS), wrapped in a functional
keras.Model, exported with keras_bridge.export (seed 0, batch 2, no training-mode goldens, no
float64 reference), converted with `node dist/src/cli/main.js convert BUNDLE OUT --json` (default
routes), and, when that converts, checked with `parity BUNDLE --backend cpu`.

The route is the conversion report's `mapping` of the wrapped layer (searched through nested
layers): translated (route 1), retrace (route 2), graph (route 3), tfjs (a tfjs builtin). The
manifest's record of the class gives each route's own verdict whichever one conversion took:
translation status and first gap, retrace and graph status and reason. Every figure is plain data
(JSON) so that the census document renders from it without rerunning this.
"""
from __future__ import annotations

import contextlib
import inspect
import re
import json
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import keras
import numpy as np

import keras_bridge
from keras_bridge.errors import ExportError

REPO_ROOT = Path(__file__).resolve().parents[1]
CLI = ["node", str(REPO_ROOT / "dist" / "src" / "cli" / "main.js")]
SEED = 0
BATCH = 2
# Seconds for one convert or parity run: a tiny model takes a few.
NODE_TIMEOUT = 300
ROUTE_OF_MAPPING = {"translated": "translate", "retrace": "retrace", "graph": "graph", "tfjs": "tfjs-builtin"}


def first_line(text: str, limit: int = 220) -> str:
    line = next((s.strip() for s in str(text).splitlines() if s.strip()), "")
    return line if len(line) <= limit else line[: limit - 3] + "..."


def is_tensor(value) -> bool:
    """A sample array, a KerasTensor, or a backend tensor (a nested layer's call while a backbone is built)."""
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, (np.generic, keras.Variable))


@contextlib.contextmanager
def recording_calls(calls: dict):
    """While building backbones: the first call's (args, kwargs) of every keras_hub layer, by id.

    Layers called inside another layer's call() get no node in the functional graph, so the
    arguments are taken at Layer.__call__ instead (KerasTensors while a backbone is built).
    """
    original = keras.layers.Layer.__call__

    def recording(layer, *args, **kwargs):
        if type(layer).__module__.startswith("keras_hub.") and id(layer) not in calls:
            # The layer is kept with its call, so that its id is not reused by a later layer.
            calls[id(layer)] = (layer, tuple(args), dict(kwargs))
        return original(layer, *args, **kwargs)

    keras.layers.Layer.__call__ = recording
    try:
        yield calls
    finally:
        keras.layers.Layer.__call__ = original


ANSI = re.compile(r"\x1b\[[0-9;]*m")
KERAS_WRAPPERS = ("Exception encountered when calling", "Error when deserializing")


def exception_text(exc, limit: int = 180) -> str:
    """The first line that says what went wrong, past Keras's wrapping lines."""
    lines = [ANSI.sub("", line).strip().removeprefix("Exception encountered: ") for line in str(exc).splitlines()]
    lines = [line for line in lines if line and not line.startswith(KERAS_WRAPPERS) and not line.startswith("Arguments received")]
    text = lines[0] if lines else first_line(exc)
    return f"{type(exc).__name__}: " + (text if len(text) <= limit else text[: limit - 3] + "...")


def concrete(value):
    """The values of a sample array or eager tensor; None for a symbolic one."""
    if isinstance(value, keras.KerasTensor):
        return None
    try:
        return np.asarray(value)
    except Exception:  # a symbolic backend tensor (a nested call while a graph was traced)
        return None


def parameter_names(cls, args, kwargs) -> dict:
    """The call() parameter each positional argument binds to (an input is named after it)."""
    try:
        bound = inspect.signature(cls.call).bind(None, *args, **kwargs)
    except TypeError:
        return {}
    return {i: name for i, name in enumerate(list(bound.arguments)[1 : 1 + len(args)])}


def symbolic_call(cls, args, kwargs):
    """keras.Input for each tensor argument (named after its parameter), the rest as given.

    Returns (inputs in order, input_ranges for integer inputs drawn from given samples, args, kwargs).
    """
    names = parameter_names(cls, args, kwargs)
    inputs, ranges = [], {}

    def symbolic(value, name):
        if not is_tensor(value):
            return value
        name = name if name not in {i.name for i in inputs} else f"{name}_{len(inputs)}"
        tensor = keras.Input(tuple(value.shape)[1:], dtype=keras.backend.standardize_dtype(value.dtype), name=name)
        sample = concrete(value)
        if sample is not None and np.issubdtype(sample.dtype, np.integer):
            # A sample's own range: positions, token ids the layer was called on when built.
            ranges[name] = (int(sample.min()), int(sample.max()) + 1)
        inputs.append(tensor)
        return tensor

    new_args = tuple(
        keras.tree.map_structure(lambda v, n=names.get(i, f"input_{i}"): symbolic(v, n), a) for i, a in enumerate(args)
    )
    new_kwargs = {k: keras.tree.map_structure(lambda v, n=k: symbolic(v, n), v) for k, v in kwargs.items()}
    return inputs, ranges, new_args, new_kwargs


def fresh_instance(cls, layer, tiny_arguments):
    """An unbuilt copy of the census's instance: from its config, else from the census's arguments."""
    keras.utils.set_random_seed(SEED)
    try:
        return cls.from_config(layer.get_config()), None
    except Exception as exc:  # keras_hub classes whose get_config does not rebuild them
        failure = f"from_config(get_config()) raised {exception_text(exc, 140)}"
    if cls.__name__ not in tiny_arguments:
        return None, failure
    keras.utils.set_random_seed(SEED)
    return cls(**tiny_arguments[cls.__name__]), None


def wrap(cls, layer, instance_note, candidates, tiny_arguments):
    """A functional model around a fresh copy of `layer`, called as the first of `candidates` (sample
    calls) that works, or the first one's reason there is none."""
    if layer is None:
        return None, None, f"no instance: {instance_note}"
    if not candidates:
        return None, None, "no sample call: not called inside a tiny backbone, and the census's CALL_INPUTS has none for it"
    failures = []
    for call in candidates:
        model, ranges, failure = wrap_call(cls, layer, call, tiny_arguments)
        if model is not None:
            return model, ranges, None
        failures.append(failure)
    return None, None, failures[0]


def wrap_call(cls, layer, call, tiny_arguments):
    args, kwargs = call
    if not any(is_tensor(v) for v in keras.tree.flatten((args, kwargs))):
        return None, None, "its sample call has no tensor argument"
    fresh, failure = fresh_instance(cls, layer, tiny_arguments)
    if fresh is None:
        return None, None, failure
    inputs, ranges, new_args, new_kwargs = symbolic_call(cls, args, kwargs)
    try:
        outputs = fresh(*new_args, **new_kwargs)
        model = keras.Model(inputs, outputs, name=f"wrap_{cls.__name__.lower()}")
    except Exception as exc:  # a census fact: the symbolic call or the wrapping failed
        return None, None, f"calling it on keras.Input raised {exception_text(exc, 140)}"
    return model, ranges, None


def layer_mapping(report_layers, name):
    for entry in report_layers:
        if entry.get("name") == name:
            return entry.get("mapping")
        found = layer_mapping(entry.get("layers") or [], name)
        if found is not None:
            return found
    return None


def route_verdicts(manifest, class_name) -> dict:
    """Each route's own verdict on the class, from the bundle's manifest."""
    record = next((c for c in manifest.get("custom_layers", []) if c.get("class_name") == class_name), None)
    if record is None:
        return {"custom": False}
    translation = record.get("translation") or {}
    gaps = translation.get("gaps") or []
    verdicts = {"custom": True, "translate": translation.get("status", "absent")}
    if gaps:
        verdicts["translate_gaps"] = [
            f"{Path(gap.get('file', '?')).name}:{gap.get('line', '?')}: {first_line(gap.get('why', ''))}" for gap in gaps
        ]
    for route, key in (("retrace", "retraces"), ("graph", "graphs")):
        records = record.get(key) or []
        if not records:
            verdicts[route] = "absent"
            continue
        verdicts[route] = records[0].get("status")
        if records[0].get("reason"):
            verdicts[f"{route}_reason"] = first_line(records[0]["reason"])
    return verdicts


def convert_failure(stderr: str, workdir: Path) -> dict:
    """Per-route reasons the CLI printed, else its first error line."""
    lines = [line.strip() for line in stderr.splitlines()]
    reasons = {}
    for line in lines:
        for route, marker in (("translate", "not translated to TypeScript: "), ("retrace", "symbolic re-trace of"), ("graph", "graph fallback of")):
            if line.startswith(marker) and route not in reasons:
                reasons[route] = first_line(line.removeprefix(marker) if route == "translate" else line.split("refused: ", 1)[-1])
    error = next((line for line in lines if "error:" in line), first_line(stderr))
    # The bundle directory differs per run: keep the message from the file name on.
    return {"error": first_line(error.replace(str(workdir), "BUNDLE_DIR")), "reasons": reasons}


def parity_summary(result_path: Path, run) -> dict:
    if not result_path.exists():
        return {"outcome": f"exit {run.returncode}", "detail": first_line(next((l for l in run.stderr.splitlines() if "error" in l), run.stderr))}
    result = json.loads(result_path.read_text())
    tensors, failing = [], []
    for model in result["models"]:
        for backend in model["backends"]:
            for tensor in backend["tensors"]:
                # Schema v2 (docs/results-format.md) writes an infinite error as the string "Infinity".
                tensors.append(float(tensor["comparison"]["maxAbsError"]))
                if not tensor["comparison"]["passed"] and not failing:
                    failing.append(tensor["label"])
            if backend.get("gradientsNotCompared") and not failing:
                failing.append("gradients not compared: " + first_line(backend["gradientsNotCompared"]))
    summary = {"outcome": result["outcome"],
               "max_abs_error": float(f"{max(tensors):.1g}") if tensors else None}
    if failing:
        summary["detail"] = failing[0]
    return summary


def convert_class(cls, model, ranges, workdir: Path, parity: bool) -> dict:
    bundle = workdir / "bundle"
    try:
        keras_bridge.export(model, bundle, seed=SEED, batch_size=BATCH, input_ranges=ranges or None,
                            training_mode=False, float64_reference=False, layer_gradients="auto")
    except ExportError as exc:
        return {"route": "none", "stage": "export", "error": f"refused: {first_line(exc)}"}
    except Exception as exc:  # keras_bridge's exit code 1: recorded, the census goes on
        return {"route": "none", "stage": "export", "error": f"internal error: {exception_text(exc, 160)}"}
    manifest = json.loads((bundle / "manifest.json").read_text())
    layer_name = next(l.name for l in model.layers if type(l) is cls)
    record = {"verdicts": route_verdicts(manifest, cls.__name__)}
    record.update(converted(bundle, workdir, layer_name, [], parity))
    if record["route"] == "none" and record["verdicts"].get("graph") == "traced":
        # Conversion does not fall through to a later route when an earlier one's output fails in
        # TypeScript: what route 3 alone makes of the class tells how close it is.
        record["graph_alone"] = converted(bundle, workdir, layer_name, ["--routes", "graph"], parity)
    return record


def converted(bundle: Path, workdir: Path, layer_name: str, routes: list, parity: bool) -> dict:
    """`convert` (and `parity` on cpu) of a bundle: the route its layer took, or why none."""
    out = workdir / ("converted" + "_".join(routes[1:]))
    run = subprocess.run([*CLI, "convert", str(bundle), str(out), "--json", *routes], cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=NODE_TIMEOUT)
    if run.returncode != 0:
        return {"route": "none", "stage": "convert", "exit": run.returncode, **convert_failure(run.stderr, workdir)}
    mapping = layer_mapping(json.loads(run.stdout)["layers"], layer_name)
    record = {"route": ROUTE_OF_MAPPING.get(mapping, mapping or "missing from the report")}
    if parity:
        result_path = workdir / ("parity" + "_".join(routes[1:]) + ".json")
        run = subprocess.run([*CLI, "parity", str(bundle), "--backend", "cpu", "--json", str(result_path), *routes],
                             cwd=REPO_ROOT, capture_output=True, text=True, timeout=NODE_TIMEOUT)
        record["parity"] = parity_summary(result_path, run)
    return record


def route_census(rows, instances, calls, tiny_arguments, parity: bool = True, progress=print) -> dict:
    """class key -> route record, for the census rows of kind "layer".

    instances: class key -> (class, instance or None); calls: class key -> (args, kwargs) of a
    sample call (KerasTensors or arrays); tiny_arguments: class name -> constructor arguments.
    """
    records = {}
    workroot = Path(tempfile.mkdtemp(prefix="keras_hub_routes_"))
    try:
        for row in rows:
            if row["kind"] != "layer":
                continue
            cls, layer = instances[row["key"]]
            model, ranges, why_not = wrap(cls, layer, row["instance"], calls.get(row["key"]), tiny_arguments)
            if model is None:
                records[row["key"]] = {"route": "none", "stage": "wrap", "error": why_not}
            else:
                workdir = workroot / cls.__name__
                records[row["key"]] = {
                    "inputs": [f"{t.name} {tuple(t.shape[1:])} {t.dtype}" for t in model.inputs],
                    **convert_class(cls, model, ranges, workdir, parity),
                }
                shutil.rmtree(workdir, ignore_errors=True)
            progress(f"{row['class']}: {records[row['key']]['route']}")
    finally:
        shutil.rmtree(workroot, ignore_errors=True)
    return records


ROUTES_FILE = REPO_ROOT / "docs" / "keras-hub-census.json"


def git_commit() -> str:
    run = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT, capture_output=True, text=True)
    return run.stdout.strip() + (" with uncommitted changes" if dirty.stdout.strip() else "")


def write_routes(records: dict, seconds: float) -> None:
    import keras_hub

    data = {
        "generated_at_commit": git_commit(),
        "keras_hub": keras_hub.__version__,
        "keras": keras.__version__,
        "seconds": round(seconds, -1),
        "classes": dict(sorted(records.items())),
    }
    ROUTES_FILE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def read_routes() -> dict:
    return json.loads(ROUTES_FILE.read_text(encoding="utf-8"))


ROUTE_ORDER = ("translate", "retrace", "graph", "tfjs-builtin", "none")
OUT_OF_SCOPE = {
    "preprocessing": "runs on strings, Python lists or NumPy arrays before the model (tokenizers' packers, "
                     "image/audio/video converters): not part of a converted model",
    "Model": "a backbone (keras.Model), not a layer: its keras_hub layers are rows here; BertBackbone and "
             "GPT2Backbone convert end to end in test/e2e/keras-hub-backbones.test.ts",
}


def cell(text) -> str:
    return str(text).replace("|", "/").replace("\n", " ")


def parity_cell(parity) -> str:
    if not parity:
        return ""
    text = parity["outcome"]
    if parity.get("max_abs_error") is not None:
        text += f" (max abs err {parity['max_abs_error']:g})"
    if parity.get("detail"):
        text += f": {parity['detail']}"
    return cell(text)


def why_none(record) -> str:
    if record["route"] != "none":
        return ""
    text = f"{record['stage']}: {record['error']}"
    alone = record.get("graph_alone")
    if alone:
        text += f"; with --routes graph: {alone['route']}" + (f", parity {parity_cell(alone.get('parity'))}" if alone.get("parity") else "")
        if alone["route"] == "none":
            text += f" ({alone.get('reasons', {}).get('graph') or alone['error']})"
    return cell(text)


def verdict_cell(verdicts, route) -> str:
    if not verdicts.get("custom"):
        return ""
    status = verdicts.get(route, "")
    if route == "translate" and verdicts.get("translate_gaps"):
        gaps = verdicts["translate_gaps"]
        return cell(f"{status} ({len(gaps)}; first {gaps[0]})")
    reason = verdicts.get(f"{route}_reason")
    return cell(f"{status}: {reason}" if reason else status)


def gap_why(gap: str) -> str:
    """A translation gap without its file:line, so that the same reason counts once per class."""
    return gap.split(": ", 1)[1] if ": " in gap else gap


def render_routes(rows, data) -> str:
    records = data["classes"]
    layers = [r for r in rows if r["kind"] == "layer"]
    missing = [r["class"] for r in layers if r["key"] not in records]
    counts = Counter(records[r["key"]]["route"] for r in layers if r["key"] in records)
    lines = [
        "## Routes: how each modeling layer class converts",
        "",
        "Generated by `.venv/bin/python scripts/keras_hub_census.py --routes > docs/keras-hub-census.md`",
        "(needs the TypeScript build, `npx tsc -p tsconfig.json`), which reruns scripts/keras_hub_routes.py",
        "and rewrites docs/keras-hub-census.json; this section is rendered from that JSON. It reflects",
        f"keras-bridge's code at the commit it was generated on ({data['generated_at_commit']}), keras_hub",
        f"{data['keras_hub']} and Keras {data['keras']}; the run took about {data['seconds']:.0f} s on a 2-core machine.",
        "",
        "Each class of kind `layer` above: a fresh tiny copy (from_config of the census's instance, else the",
        "census's constructor arguments) called on keras.Input tensors shaped as the instance was called",
        "(inside a tiny backbone, or on the census's sample inputs), in a functional keras.Model; exported",
        "with keras_bridge.export (seed 0, batch 2, no training-mode goldens, no float64 reference),",
        "converted with `convert BUNDLE OUT --json` (default routes translate,retrace,graph), then",
        "`parity BUNDLE --backend cpu`. The route is the conversion report's mapping of the wrapped layer.",
        "The translate/retrace/graph columns are each route's own verdict in the manifest, whichever route",
        "conversion took. When conversion fails and route 3 traced, `--routes graph` is tried too",
        "(conversion does not fall through to a later route when an earlier one's output fails in TypeScript).",
        "",
        "| route | classes |",
        "|---|---|",
    ]
    lines += [f"| {route} | {counts.get(route, 0)} |" for route in ROUTE_ORDER]
    stages = Counter(records[r["key"]].get("stage") for r in layers if records.get(r["key"], {}).get("route") == "none")
    lines += [
        "",
        "Where `none` stops: " + ", ".join(f"{stage} {n}" for stage, n in sorted(stages.items())) + " (wrap: no functional "
        "model could be made around it; export: keras_bridge.export failed; convert: `convert` exited non-zero).",
    ]
    alone = Counter(records[r["key"]]["graph_alone"]["route"] for r in layers if "graph_alone" in records.get(r["key"], {}))
    if alone:
        lines.append("Of the classes whose conversion failed, `--routes graph` converts " + ", ".join(f"{n} by {route}" for route, n in sorted(alone.items())) + ".")
    parity = Counter(records[r["key"]]["parity"]["outcome"] for r in layers if "parity" in records.get(r["key"], {}))
    lines.append("Parity on cpu of the converted ones: " + ", ".join(f"{o} {n}" for o, n in sorted(parity.items())) + ".")
    if missing:
        lines.append("Not in the JSON (rerun with --routes): " + ", ".join(missing) + ".")

    verdicts = [records[r["key"]].get("verdicts", {}) for r in layers if r["key"] in records]
    verdicts = [v for v in verdicts if v.get("custom")]
    lines += ["", f"### Each route's verdict on the {len(verdicts)} classes exported", "",
              "| route | verdicts |", "|---|---|"]
    for route in ("translate", "retrace", "graph"):
        lines.append(f"| {route} | " + ", ".join(f"{s} {n}" for s, n in sorted(Counter(v.get(route) for v in verdicts).items())) + " |")
    gaps = Counter(why for v in verdicts for why in {gap_why(g) for g in v.get("translate_gaps", [])})
    lines += ["", "Route 1's gaps, each counted once per class that has it (most common first):", "",
              "| classes | gap |", "|---|---|"]
    lines += [f"| {n} | {cell(why)} |" for why, n in sorted(gaps.items(), key=lambda item: (-item[1], item[0]))]
    for route in ("retrace", "graph"):
        reasons = Counter(v[f"{route}_reason"] for v in verdicts if v.get(f"{route}_reason"))
        if reasons:
            lines += ["", f"Route {'2' if route == 'retrace' else '3'} ({route}) refusals:", "", "| classes | reason |", "|---|---|"]
            lines += [f"| {n} | {cell(why)} |" for why, n in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))]

    lines += ["", "### Per class", "",
              "| class | inputs | route | parity (cpu) | why none | translate | retrace | graph |",
              "|---|---|---|---|---|---|---|---|"]
    for r in layers:
        record = records.get(r["key"])
        if record is None:
            continue
        v = record.get("verdicts", {})
        lines.append(
            f"| {r['class']} | {cell('; '.join(record.get('inputs', [])))} | {record['route']} | {parity_cell(record.get('parity'))} | "
            f"{why_none(record)} | {verdict_cell(v, 'translate')} | {verdict_cell(v, 'retrace')} | {verdict_cell(v, 'graph')} |"
        )
    lines += ["", "### Out of scope", ""]
    for kind_name, reason in OUT_OF_SCOPE.items():
        names = [r["class"] for r in rows if r["kind"] == kind_name]
        lines.append(f"- {len(names)} {kind_name} classes: {reason}: " + ", ".join(names) + ".")
    return "\n".join(lines)
