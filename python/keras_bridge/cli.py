"""Command line: `python -m keras_bridge export ...`.

Exit codes: 0 exported (the bundle's path is printed on stdout), 2 usage or input error,
1 unexpected internal error, 130/143 interrupted by SIGINT/SIGTERM (nothing written). Errors are
one stderr line `keras-bridge export: error: ...`; progress lines go to stderr too.
"""
from __future__ import annotations

import argparse
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
from .errors import ExportError

PROG = "keras-bridge"
EXIT_OK, EXIT_INTERNAL, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one `<prog>: error: ...` line and exit code 2."""

    def error(self, message):  # noqa: D401 - argparse API
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


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
            "Exit codes: 0 ok, 2 usage or input error, 1 internal error."
        ),
    )
    export.add_argument("--out", required=True, metavar="DIR", help="bundle directory to write (replaced if it is a bundle)")
    source = export.add_mutually_exclusive_group(required=True)
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
        type=_input_range,
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
        type=_input_shape,
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


def _grouped(pairs: list) -> dict:
    """[(name, shape), ...] as {name: [shape, ...]}, in the order given."""
    grouped: dict = {}
    for name, shape in pairs:
        grouped.setdefault(name, []).append(shape)
    return grouped


def _format_warning(message, category, filename, lineno, line=None):
    text = " ".join(str(message).split())
    return f"warning: {category.__name__}: {text}\n"


def run_export(args) -> int:
    from .loading import load_factory, load_model_file, prepend_paths, import_module
    from .progress import to_stderr

    prepend_paths(args.path)
    if args.model:
        # Refused before the (long) export: never write over the model file or a directory holding it.
        check_destination(Path(args.out), (args.model,))
    if args.factory:
        for name in args.module:
            import_module(name)
        model = load_factory(args.factory, args.seed)
        to_stderr(f"built {model.name} from {args.factory}")
    else:
        model = load_model_file(args.model, args.module)
        to_stderr(f"loaded {model.name} from {args.model}")

    from .exporter import export
    from .kernel_variants import Rebuild

    path = export(
        model,
        args.out,
        seed=args.seed,
        batch_size=args.batch_size,
        input_ranges=dict(args.input_range),
        input_shapes=_grouped(args.input_shape),
        layer_gradients=args.layer_gradients,
        training_mode=args.training_mode,
        train_steps=args.train_steps,
        float64_reference=args.float64_reference,
        kernel_variants=args.kernel_variants,
        rebuild=Rebuild.from_cli(args),
        source_roots=args.path,
        progress=to_stderr,
    )
    print(path, flush=True)
    return EXIT_OK


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    prefix = f"{PROG} {args.command}: error:"
    previous_format = warnings.formatwarning
    warnings.formatwarning = _format_warning
    try:
        with signals_raise():
            return run_export(args)
    except ExportError as exc:
        # Bounded and escaped: messages echo names and values from the user's files.
        print(f"{prefix} {bounded_message(str(exc))}", file=sys.stderr, flush=True)
        return EXIT_USAGE
    except (KeyboardInterrupt, Interrupted) as exc:
        # The bundle writer has removed its temporary directory; the shell's code for the signal.
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        print(f"{prefix} interrupted by {signal.Signals(signum).name}; nothing written", file=sys.stderr, flush=True)
        return 128 + int(signum)
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
        return EXIT_INTERNAL
    finally:
        warnings.formatwarning = previous_format


def console_main() -> None:
    sys.exit(main())
