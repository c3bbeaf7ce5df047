"""Command line: `python -m keras_bridge export ...`.

Every export option is a field of one document (schemas/export-options.schema.json, generated
from the TypeScript side's zod schema): `--options-json FILE` (or `-`, stdin) reads it, as
`keras-bridge export` passes it; the flags are the same document for Python users, so an option is
one schema field plus its use in run_export().

Exit codes come from schemas/exit-codes.json (exit_codes.py), shared with the Node CLI: 0 exported
(the bundle's path is printed on stdout), input_error (2) for usage or input errors, internal_error
(70) for a bug, 130/143 interrupted by SIGINT/SIGTERM (nothing written). Errors are one stderr line
`keras-bridge export: error: ...`; progress lines go to stderr too.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import traceback
import warnings
from pathlib import Path

from . import __version__
from .echo import bounded_message
from .bundle_writer import Interrupted, check_destination, signals_raise
from .contract import EXPORT_OPTIONS_SCHEMA, ContractError, validate, with_defaults
from .errors import ExportError
from .exit_codes import EXIT, help_text, interrupted

PROG = "keras-bridge"
# What --options-json may read: a document of a few hundred bytes, never a model.
MAX_OPTIONS_BYTES = 1024 * 1024


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one `<prog>: error: ...` line and exit code 2."""

    def error(self, message):  # noqa: D401 - argparse API
        self.exit(EXIT["input_error"], f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _int_at_least(minimum: int, description: str):
    """An argparse type for integers >= minimum."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected a {description} integer, got {text!r}")
        return value

    return parse


_non_negative_int = _int_at_least(0, "non-negative")
_positive_int = _int_at_least(1, "positive")


def _input_range(text: str) -> tuple:
    """NAME=HIGH or NAME=LOW:HIGH, as (name, (low, high)); NAME=P (a probability of True), as (name, p)."""
    name, _, bounds = text.partition("=")
    low, _, high = bounds.rpartition(":")
    try:
        parsed = (int(low) if low else 0, int(high))
    except ValueError:
        parsed = _probability(bounds)
    if not name or parsed is None or (isinstance(parsed, tuple) and parsed[0] >= parsed[1]):
        raise argparse.ArgumentTypeError(
            f"expected NAME=HIGH or NAME=LOW:HIGH with LOW < HIGH, or NAME=P with 0 < P < 1 for a bool input, got {text!r}"
        )
    return name, parsed


def _input_shape(text: str) -> tuple:
    """NAME=D1,D2,... (the dimensions after the batch), as (name, (d1, d2, ...))."""
    name, _, dims = text.partition("=")
    try:
        shape = tuple(int(d) for d in dims.split(","))
    except ValueError:
        shape = ()
    if not name or not shape or any(d < 1 for d in shape):
        raise argparse.ArgumentTypeError(f"expected NAME=D1,D2,... with positive integers (the dimensions after the batch), got {text!r}")
    return name, shape


def _checked(parse):
    """An argparse type that checks the text with `parse` and keeps it as text: the document holds text."""

    def check(text: str) -> str:
        parse(text)
        return text

    return check


def _probability(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 < value < 1 else None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Export Keras 3 models as keras-bridge bundles (docs/bundle-format.md).",
    )
    parser.add_argument("--version", action="version", version=f"keras_bridge {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    export = commands.add_parser(
        "export",
        help="write a bundle: model config, weights, manifest and seeded goldens",
        description=(
            "Write a keras-bridge bundle for one model: model.keras.json, weights.bin, goldens.bin "
            "and manifest.json, atomically (a failed export leaves nothing behind and keeps an "
            "existing bundle). Prints the bundle's path on stdout; progress and errors go to stderr. "
            f"{help_text()}"
        ),
    )
    export.add_argument(
        "--options-json",
        metavar="FILE",
        help=(
            "read every option from one JSON document (FILE, or - for stdin; schema: "
            "keras_bridge/schemas/export-options.schema.json), as keras-bridge export passes them; no other "
            "flag may be given with it"
        ),
    )
    export.add_argument("--out", metavar="DIR", help="bundle directory to write (replaced if it is a bundle)")
    source = export.add_mutually_exclusive_group()
    source.add_argument(
        "--factory",
        metavar="MODULE:FN",
        help="call FN() from MODULE to build the model; Keras is seeded with --seed first, so weights are deterministic",
    )
    source.add_argument(
        "--model",
        metavar="FILE.keras",
        help=(
            "load a .keras file (or a legacy .h5 model): keras-bridge first reads its config itself and refuses "
            "Lambda layers, bytecode, functions and modules that are not Keras's or --module's, then Keras loads "
            "it with safe_mode on and compile off (docs/hostile-input.md); custom layers come from --module"
        ),
    )
    export.add_argument(
        "--module",
        action="extend",
        nargs="+",
        default=[],
        metavar="MODULE",
        help="import MODULE and pass every keras.layers.Layer subclass it defines as custom_objects (repeatable)",
    )
    export.add_argument(
        "--seed",
        type=_non_negative_int,
        default=0,
        help="seeds the golden inputs and cotangents, and the factory's weights (default: 0)",
    )
    export.add_argument(
        "--batch-size",
        type=_positive_int,
        default=2,
        metavar="N",
        help="batch dimension of the golden inputs (default: 2)",
    )
    export.add_argument(
        "--input-range",
        type=_checked(_input_range),
        action="append",
        default=[],
        metavar="NAME=[LOW:]HIGH|NAME=P",
        help=(
            "golden values of integer input NAME are drawn from [LOW, HIGH) (LOW defaults to 0); without it, "
            "HIGH is the smallest input_dim of the Embedding layers the input feeds, or 10. For a bool input, "
            "P (0 < P < 1) is the probability of True (default 0.75) (repeatable)"
        ),
    )
    export.add_argument(
        "--input-shape",
        type=_checked(_input_shape),
        action="append",
        default=[],
        metavar="NAME=D1,D2,...",
        help=(
            "record the goldens with input NAME of shape (batch, D1, D2, ...): sizes its open (None) dimensions, "
            "fixed ones as the model has them. Repeat it for one input to record several sizes, each its own "
            "parity case. Inputs not given share the sizes of the same open axes; the rest take the smallest "
            "size >= 8 the model accepts (docs/bundle-format.md, 'Golden cases')"
        ),
    )
    export.add_argument(
        "--layer-gradients",
        choices=["auto", "always", "never"],
        default="auto",
        help=(
            "include dL/dy for every layer output in the goldens, for layer-isolated gradient checks; "
            "auto (default): when they total at most 1 MiB or a quarter of the weights' bytes"
        ),
    )
    export.add_argument(
        "--no-training-mode",
        dest="training_mode",
        action="store_false",
        help=(
            "do not record training mode (a training=True pass whose random draws, e.g. Dropout masks, "
            "are recorded for replay); by default it is recorded for models whose training mode differs"
        ),
    )
    export.add_argument(
        "--float64-reference",
        action="store_true",
        help=(
            "also run the model as a float64 copy (same weights, inputs, cotangents and random draws) and add "
            "each golden's measured float32 error to its reference_error, which parity adds to atol; for "
            "ill-conditioned models (BatchNormalization in training mode on small batches). It also exports "
            "the goldens again under Keras's other float32 kernel variants (oneDNN on, oneDNN capped at AVX2, "
            "oneDNN off; one subprocess each) and records the farthest one's float64 error, which parity "
            "uses as the error tfjs may have (docs/tolerances.md)"
        ),
    )
    export.add_argument(
        "--no-kernel-variants",
        dest="kernel_variants",
        action="store_false",
        help=(
            "with --float64-reference: skip the kernel-variant runs (faster; parity then allows tfjs only "
            "twice the golden's own float64 error, which can fail by chance on ill-conditioned models)"
        ),
    )
    export.add_argument(
        "--saved-model",
        action="store_true",
        help=(
            "also write the model as a TensorFlow SavedModel (BUNDLE/saved_model, Keras's own export), for "
            "running it in Node as one native graph (tfjs-node's loadSavedModel), with a second endpoint for the "
            "gradients of the inputs and of the weights fed to it; parity compares its outputs and gradients "
            "on the tensorflow backend (docs/native-graph.md). A model that calls back into Python is recorded "
            "as skipped, with why"
        ),
    )
    export.add_argument(
        "--train-steps",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help=(
            "also record every trainable weight after N steps of SGD(learning_rate=0.01) and of "
            "Adam(learning_rate=0.001) on the goldens' loss, each from the initial weights (default: 0, none)"
        ),
    )
    export.add_argument(
        "--path",
        action="extend",
        nargs="+",
        default=[],
        metavar="DIR",
        help="prepend DIR to sys.path before importing modules (repeatable), e.g. --path fixtures/seed",
    )
    return parser


# The document's field for each flag's argparse dest (flags are the document, spelled for a shell).
_FIELDS = {
    "out": "out", "factory": "factory", "model": "model", "module": "modules", "path": "paths", "seed": "seed",
    "batch_size": "batchSize", "input_range": "inputRanges", "input_shape": "inputShapes",
    "layer_gradients": "layerGradients", "training_mode": "trainingMode", "float64_reference": "float64Reference",
    "kernel_variants": "kernelVariants", "train_steps": "trainSteps", "saved_model": "savedModel",
}


def _export_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices["export"]


def options_from_args(args, parser: argparse.ArgumentParser | None = None) -> dict:
    """The export options document of parsed flags; --options-json's document as read (checked in run_export)."""
    parser = parser or build_parser()
    export = _export_parser(parser)
    given = [a.option_strings[0] for a in export._actions if a.dest in _FIELDS and getattr(args, a.dest) != a.default]
    if args.options_json is not None:
        if given:
            export.error(f"--options-json: give every option in the document, not also as flags ({', '.join(given)})")
        return read_options_document(args.options_json)
    if args.out is None:
        export.error("the following arguments are required: --out")
    if args.factory is None and args.model is None:
        export.error("one of the arguments --factory --model is required")
    return {field: getattr(args, dest) for dest, field in _FIELDS.items() if getattr(args, dest) is not None}


def read_options_document(source: str) -> dict:
    """The JSON document at `source` (- for stdin); ExportError when it cannot be read or is not JSON."""
    where = "stdin" if source == "-" else source
    try:
        if source == "-":
            text = sys.stdin.read(MAX_OPTIONS_BYTES + 1)
        else:
            with open(source, encoding="utf-8") as handle:
                text = handle.read(MAX_OPTIONS_BYTES + 1)
    except OSError as exc:
        raise ExportError(f"--options-json {where}: cannot be read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise ExportError(f"--options-json {where}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if len(text) > MAX_OPTIONS_BYTES:
        raise ExportError(f"--options-json {where}: over {MAX_OPTIONS_BYTES} bytes; an options document is a few hundred")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ExportError(f"--options-json {where}: not JSON ({exc})") from exc


def _parsed(parse, text: str, field: str):
    try:
        return parse(text)
    except argparse.ArgumentTypeError as exc:
        raise ExportError(f"export options: {field}: {exc}") from exc


def export_arguments(options: dict) -> dict:
    """The options document, checked against its schema (defaults filled in), as export()'s keyword arguments."""
    if not isinstance(options, dict):
        raise ExportError(f"export options: expected a JSON object, got {type(options).__name__}")
    options = with_defaults(EXPORT_OPTIONS_SCHEMA, options)
    try:
        validate(EXPORT_OPTIONS_SCHEMA, options)
    except ContractError as exc:
        raise ExportError(f"export options: {exc}") from exc
    if ("factory" in options) == ("model" in options):
        raise ExportError("export options: give exactly one of factory (MODULE:FN) and model (a .keras or .h5 file)")
    return {
        "out": options["out"],
        **{key: options[key] for key in ("factory", "model") if key in options},
        "modules": options["modules"],
        "paths": options["paths"],
        "seed": options["seed"],
        "batch_size": options["batchSize"],
        "input_ranges": dict(_parsed(_input_range, text, "inputRanges") for text in options["inputRanges"]),
        "input_shapes": _grouped([_parsed(_input_shape, text, "inputShapes") for text in options["inputShapes"]]),
        "layer_gradients": options["layerGradients"],
        "training_mode": options["trainingMode"],
        "train_steps": options["trainSteps"],
        "float64_reference": options["float64Reference"],
        "kernel_variants": options["kernelVariants"],
        "saved_model": options["savedModel"],
    }


def _grouped(pairs: list) -> dict:
    """[(name, shape), ...] as {name: [shape, ...]}, in the order given."""
    grouped: dict = {}
    for name, shape in pairs:
        grouped.setdefault(name, []).append(shape)
    return grouped


def _format_warning(message, category, filename, lineno, line=None):
    text = " ".join(str(message).split())
    return f"warning: {category.__name__}: {text}\n"


def run_export(options: dict) -> int:
    """Exports as the options document says (export_arguments checks it)."""
    from .loading import load_factory, load_model_file, prepend_paths, import_module
    from .progress import to_stderr

    arguments = export_arguments(options)
    prepend_paths(arguments["paths"])
    if "model" in arguments:
        # Refused before the (long) export: never write over the model file or a directory holding it.
        check_destination(Path(arguments["out"]), (arguments["model"],))
    if "factory" in arguments:
        for name in arguments["modules"]:
            import_module(name)
        model = load_factory(arguments["factory"], arguments["seed"])
        to_stderr(f"built {model.name} from {arguments['factory']}")
    else:
        model = load_model_file(arguments["model"], arguments["modules"])
        to_stderr(f"loaded {model.name} from {arguments['model']}")

    from .exporter import export
    from .kernel_variants import Rebuild

    path = export(
        model,
        arguments["out"],
        seed=arguments["seed"],
        batch_size=arguments["batch_size"],
        input_ranges=arguments["input_ranges"],
        input_shapes=arguments["input_shapes"],
        layer_gradients=arguments["layer_gradients"],
        training_mode=arguments["training_mode"],
        train_steps=arguments["train_steps"],
        float64_reference=arguments["float64_reference"],
        kernel_variants=arguments["kernel_variants"],
        saved_model=arguments["saved_model"],
        rebuild=Rebuild.from_options(arguments),
        source_roots=arguments["paths"],
        progress=to_stderr,
    )
    print(path, flush=True)
    return EXIT["ok"]


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    prefix = f"{PROG} {args.command}: error:"
    previous_format = warnings.formatwarning
    warnings.formatwarning = _format_warning
    try:
        options = options_from_args(args, parser)
        with signals_raise():
            return run_export(options)
    except ExportError as exc:
        # Bounded and escaped: messages echo names and values from the user's files.
        print(f"{prefix} {bounded_message(str(exc))}", file=sys.stderr, flush=True)
        return EXIT["input_error"]
    except (KeyboardInterrupt, Interrupted) as exc:
        # The bundle writer has removed its temporary directory; the shell's code for the signal.
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        name = signal.Signals(signum).name
        print(f"{prefix} interrupted by {name}; nothing written", file=sys.stderr, flush=True)
        return interrupted(name)
    except Exception as exc:
        detail = bounded_message(" ".join(re.sub(r"\x1b\[[0-9;]*m", "", str(exc)[:4000]).split()), 500) or "(no message)"
        print(
            f"{prefix} internal error: {type(exc).__name__}: {detail} "
            "(set KERAS_BRIDGE_DEBUG=1 for a traceback)",
            file=sys.stderr,
            flush=True,
        )
        if os.environ.get("KERAS_BRIDGE_DEBUG"):
            traceback.print_exc()
        return EXIT["internal_error"]
    finally:
        warnings.formatwarning = previous_format


def console_main() -> None:
    sys.exit(main())
