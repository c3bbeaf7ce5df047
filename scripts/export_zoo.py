"""Exports the layer zoo: every model in fixtures/zoo/<family>.py (its MODELS dict, name ->
factory) becomes the bundle fixtures/bundles/zoo/<family>/<name>, with goldens from Keras. A model
with open dimensions has its sizes in the module's INPUT_SHAPES dict (name -> export()'s
input_shapes: each input's shapes, one golden case per size). A module that sets
FLOAT64_REFERENCE = True has its models exported with a float64 reference (export()'s
float64_reference: each golden's float32 error in Keras, measured, which parity adds to its
tolerance), for models deep enough that Keras's own rounding passes the default tolerance.

    .venv/bin/python scripts/export_zoo.py [--family core] [--family conv ...]

One process for all models (TensorFlow is imported once). Before each factory, Keras's name
counters are reset and the seed is set, so a model's bundle does not change when others are added.
Bundles of models no longer in MODELS are removed. test/convert/layer-zoo.test.ts checks every
bundle's parity on every backend.
"""
import argparse
import importlib.util
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
ZOO = ROOT / "fixtures" / "zoo"
OUT = ROOT / "fixtures" / "bundles" / "zoo"


def load_family(path: Path):
    spec = importlib.util.spec_from_file_location(f"zoo_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MODELS, getattr(module, "INPUT_SHAPES", {}), bool(getattr(module, "FLOAT64_REFERENCE", False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", action="append", help="only these fixtures/zoo/<family>.py files")
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT / "fixtures" / "seed"), str(ROOT / "fixtures" / "models")]
    import keras

    import keras_bridge

    families = sorted(p for p in ZOO.glob("*.py") if not p.name.startswith("_"))
    if args.family:
        families = [p for p in families if p.stem in args.family]
    for path in families:
        models, input_shapes, float64_reference = load_family(path)
        family_out = OUT / path.stem
        family_out.mkdir(parents=True, exist_ok=True)
        for stale in sorted(set(p.name for p in family_out.iterdir()) - set(models)):
            shutil.rmtree(family_out / stale)
        for name, factory in models.items():
            keras.backend.clear_session()
            keras.utils.set_random_seed(0)
            keras_bridge.export(factory(), family_out / name, seed=0, batch_size=2, input_shapes=input_shapes.get(name), float64_reference=float64_reference)
            print(f"{path.stem}/{name}", flush=True)


if __name__ == "__main__":
    main()
