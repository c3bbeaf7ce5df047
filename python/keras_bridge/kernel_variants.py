"""How far Keras's own float32 goldens move under its other kernel variants (`kernel_variant_error`).

One float32 run is one draw of the rounding error. `float64_reference` measures that draw
(`float64_error = max |golden - exact|`), and the parity engine used to allow tfjs twice it, which
assumes tfjs is no less accurate than this one run. On ill-conditioned models (BatchNormalization
in training mode over a handful of values per channel) that assumption fails by chance: on an
AMD EPYC with AVX-512, MobileNetV2's golden (oneDNN, AVX-512 kernels) was 1.5 times (median) and up
to 5.4 times *more* accurate than the same Keras run with oneDNN off or capped at AVX2, and tfjs,
as accurate as those, landed 1.6 times past the allowance.

So the export runs the same goldens again under Keras's other float32 kernel variants, each in
its own process (TensorFlow reads these settings once, at import):

- oneDNN on, its default instruction set (AVX-512 where the CPU has it);
- oneDNN on, capped at AVX2 (`ONEDNN_MAX_CPU_ISA=AVX2`: the kernels an AVX2-only CPU runs);
- oneDNN off (`TF_ENABLE_ONEDNN_OPTS=0`: Eigen's kernels, another summation order);

leaving out the one the export itself ran under, and measures each variant's distance from the
same float64 values:

    kernel_variant_error = max over the variants v of max |v - float64 value|

Parity then allows |tfjs - golden| <= |tfjs - exact| + |golden - exact|
<= max(float64_error, kernel_variant_error) + float64_error: tfjs is assumed no less accurate than
the *least* accurate of Keras's own float32 kernels, not than the one the golden happened to use.

The variant runs rebuild the model the way the export got it (the CLI's --factory or --model with
its --module and --path; from the Python API, the model saved to a temporary .keras file and its
custom classes' modules), with the same seed, batch size, input ranges and layer-gradient policy,
and must draw the same inputs, cotangents and weights (checked, byte for byte). Whatever cannot be
run or does not match is reported with why, and those goldens keep the float64-only allowance.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ._tf import keras, np
from .progress import Progress, emit

DEFINITION = (
    "kernel_variant_error = max over Keras's other float32 kernel variants v (oneDNN on with its default "
    "instruction set, oneDNN capped at AVX2, oneDNN off; the export's own left out) of max |v - the float64 "
    "copy's value|"
)
VARIANT_TIMEOUT_S = 1800
_BUNDLE_DTYPES = {"float32": "<f4", "float64": "<f8", "int32": "<i4", "int64": "<i8", "bool": "bool",
                  "uint8": "u1", "int8": "i1", "uint16": "<u2", "int16": "<i2"}


@dataclass(frozen=True)
class KernelVariant:
    name: str
    env: dict  # the variables that select it; None removes the variable

    def describe(self) -> str:
        return ", ".join(f"{k}={'(unset)' if v is None else v}" for k, v in self.env.items())


VARIANTS = (
    KernelVariant("onednn", {"TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": None, "DNNL_MAX_CPU_ISA": None}),
    KernelVariant("onednn-avx2", {"TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": "AVX2", "DNNL_MAX_CPU_ISA": None}),
    KernelVariant("eigen", {"TF_ENABLE_ONEDNN_OPTS": "0", "ONEDNN_MAX_CPU_ISA": None, "DNNL_MAX_CPU_ISA": None}),
)


def current_variant(environ=os.environ) -> str:
    """The variant this process computes with (TensorFlow's x86-64 default is oneDNN on)."""
    if environ.get("TF_ENABLE_ONEDNN_OPTS", "1").strip().lower() in ("0", "false"):
        return "eigen"
    isa = (environ.get("ONEDNN_MAX_CPU_ISA") or environ.get("DNNL_MAX_CPU_ISA") or "").strip().upper()
    return "onednn-avx2" if isa == "AVX2" else "onednn"


def other_variants(environ=os.environ) -> list:
    mine = current_variant(environ)
    return [v for v in VARIANTS if v.name != mine]


@dataclass
class Rebuild:
    """How another process gets the same model: the export CLI's model arguments."""

    model_args: list  # ["--factory", "m:f"] or ["--model", "x.keras"], plus --module NAMES
    paths: list = field(default_factory=list)  # --path DIRS, absolute

    @classmethod
    def from_options(cls, options: dict) -> "Rebuild":
        """From the CLI's export options document (cli.py)."""
        model_args = ["--factory", options["factory"]] if options.get("factory") else ["--model", str(Path(options["model"]).resolve())]
        if options.get("modules"):
            model_args += ["--module", *options["modules"]]
        return cls(model_args, [str(Path(p).resolve()) for p in options.get("paths") or []])


def _saved_model_rebuild(model, scratch: Path) -> tuple:
    """A Rebuild for a model handed to the Python API: saved to a .keras file; (rebuild, reason)."""
    modules = sorted({type(layer).__module__ for layer in [model, *model._flatten_layers()] if not type(layer).__module__.startswith("keras.")})
    if "__main__" in modules:
        return None, "the model has classes defined in __main__, which another process cannot import; export from a module, or with the CLI's --factory"
    try:
        model.save(scratch / "model.keras")
    except Exception as exc:  # noqa: BLE001 - any failure to save means no variant run
        return None, f"saving the model for the variant runs failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    paths = [p for p in sys.path if p and Path(p).is_dir()]
    args = ["--model", str(scratch / "model.keras")] + (["--module", *modules] if modules else [])
    return Rebuild(args, paths), None


def _unpack(data: bytes, record: dict) -> np.ndarray:
    dtype = np.dtype(_BUNDLE_DTYPES[record["dtype"]])
    raw = data[record["offset"] : record["offset"] + record["byte_length"]]
    return np.frombuffer(raw, dtype=dtype).reshape(record["shape"])


@dataclass
class VariantValues:
    """One variant's goldens by section and golden key; or why it has none."""

    variant: KernelVariant
    values: dict = field(default_factory=dict)  # (section, key) -> array
    reason: str | None = None
    seconds: float = 0.0


def _variant_goldens(bundle: Path, key) -> tuple:
    """A variant bundle's goldens by (section, key), and its weights.bin."""
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    data = (bundle / "goldens.bin").read_bytes()
    weights = (bundle / "weights.bin").read_bytes()
    values = {}
    sections = {"goldens": manifest["goldens"]["tensors"], "training": (manifest["goldens"].get("training") or {}).get("tensors", [])}
    for section, records in sections.items():
        for record in records:
            values[(section, key(record))] = _unpack(data, record)
    return values, weights


def run_variants(
    model, *, rebuild: Rebuild | None, seed: int, batch_size: int, input_ranges: dict, layer_gradients_included: bool,
    training_mode: bool, expected: dict, input_shapes: dict | None = None, expected_weights: bytes, key, progress: Progress = None,
) -> list:
    """Runs every other kernel variant's export; each one's goldens, checked against the export's own
    inputs, cotangents (`expected`: (section, key) -> array) and weights."""
    results = []
    with tempfile.TemporaryDirectory(prefix="keras-bridge-variants-") as scratch_dir:
        scratch = Path(scratch_dir)
        reason = None
        if rebuild is None:
            rebuild, reason = _saved_model_rebuild(model, scratch)
        for variant in other_variants():
            result = VariantValues(variant)
            results.append(result)
            if reason is not None:
                result.reason = reason
                continue
            emit(progress, f"kernel variants: exporting the goldens again with {variant.name} ({variant.describe()})")
            result.reason = _run_one(variant, rebuild, scratch / variant.name, seed, batch_size, input_ranges, input_shapes, layer_gradients_included, training_mode, result)
            if result.reason is not None:
                continue
            values, weights = _variant_goldens(scratch / variant.name, key)
            if weights != expected_weights:
                result.reason = f"the {variant.name} run built other weights than the export (the model's construction is not deterministic)"
                continue
            for where, array in expected.items():
                mine = values.get(where)
                if mine is None or mine.shape != array.shape or mine.tobytes() != np.ascontiguousarray(array).tobytes():
                    result.reason = f"the {variant.name} run drew another {where[1][0]} ({where[0]}) than the export"
                    break
            if result.reason is None:
                result.values = values
    return results


def _run_one(variant, rebuild, out: Path, seed, batch_size, input_ranges, input_shapes, layer_gradients_included, training_mode, result) -> str | None:
    argv = [sys.executable, "-m", "keras_bridge", "export", "--out", str(out), *rebuild.model_args,
            "--seed", str(seed), "--batch-size", str(batch_size),
            "--layer-gradients", "always" if layer_gradients_included else "never"]
    for name, bounds in (input_ranges or {}).items():  # checked: (low, high) or a probability
        argv += ["--input-range", f"{name}={bounds[0]}:{bounds[1]}" if isinstance(bounds, tuple) else f"{name}={bounds!r}"]
    for name, shapes in (input_shapes or {}).items():  # checked: a list of shapes per input, in case order
        argv += [arg for shape in shapes for arg in ("--input-shape", f"{name}={','.join(map(str, shape))}")]
    if not training_mode:
        argv.append("--no-training-mode")
    if rebuild.paths:
        argv += ["--path", *rebuild.paths]
    env = dict(os.environ)
    for name, value in variant.env.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    # The package itself, wherever this process imported it from.
    package_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([package_root, *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]])
    started = time.monotonic()
    try:
        run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=VARIANT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"the {variant.name} run took over {VARIANT_TIMEOUT_S} s"
    finally:
        result.seconds = time.monotonic() - started
    if run.returncode != 0:
        lines = [line for line in run.stderr.splitlines() if "error" in line.lower()] or run.stderr.splitlines()[-1:]
        return f"the {variant.name} run failed (exit {run.returncode}): {lines[-1].strip() if lines else 'no message'}"
    return None


__all__ = ["DEFINITION", "KernelVariant", "Rebuild", "VARIANTS", "current_variant", "other_variants", "run_variants"]
