"""Writes fixtures/keras-layers.json: every public layer class of the installed Keras 3
(`keras.layers.*`), with its module, for docs/layers.md (scripts/generate-layer-docs.ts).

    .venv/bin/python scripts/list_keras_layers.py
"""
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    import keras

    classes = {}
    for name in dir(keras.layers):
        obj = getattr(keras.layers, name)
        if isinstance(obj, type) and issubclass(obj, keras.layers.Layer) and name == obj.__name__:
            classes[name] = obj.__module__
    out = Path(__file__).resolve().parent.parent / "fixtures" / "keras-layers.json"
    out.write_text(json.dumps({"keras_version": keras.__version__, "layers": classes}, indent=2, sort_keys=True) + "\n")
    print(f"{len(classes)} layer classes of Keras {keras.__version__} -> {out}")


if __name__ == "__main__":
    main()
