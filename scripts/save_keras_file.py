"""Saves the models factories build as .keras files, each seeded exactly as `keras-bridge export
--factory` seeds it, so that a file and the bundle exported from the same factory hold the same
weights.

    .venv/bin/python scripts/save_keras_file.py --path DIR --out-dir OUT MODULE:FN [MODULE:FN ...] [--seed N]

writes OUT/FN.keras for each factory (atomically: a .partial file renamed into place), in one
process. Used by the tests (test/support/cached-export.ts, cachedKerasFiles) to convert a model from
its .keras file with no Python and compare with the bundle's conversion and goldens.
"""
import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

from keras_bridge.loading import load_factory, prepend_paths  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("factories", nargs="+", metavar="MODULE:FN")
    parser.add_argument("--path", action="append", default=[], metavar="DIR")
    parser.add_argument("--out-dir", required=True, metavar="OUT")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    prepend_paths(args.path)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    import keras

    for spec in args.factories:
        started = time.perf_counter()
        keras.backend.clear_session()
        model = load_factory(spec, args.seed)
        out = out_dir / f"{spec.rpartition(':')[2]}.keras"
        partial = out.with_name(out.name + ".partial.keras")
        model.save(partial)
        partial.replace(out)
        print(f"{out}: {out.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
