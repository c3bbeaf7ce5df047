"""Saves keras.applications models as .keras files, with the weights Keras says they hold.

Files the TypeScript .keras reader did not write and whose layout nobody here chose: every
keras.applications family, `weights=None` (no download), at small inputs, 10 classes. Every weight
is first set to distinct seeded random values (Keras initializes biases, betas and moving means to
0 and gammas and variances to 1, which would hide a swap). For each model `<name>`, writes to the
output directory:

  <name>.keras          model.save()
  <name>.weights.json   what the live model lists as its weights (scripts/make_keras_files.py's
                        format: layer, index in layer.weights, shape, dtype, sha256 of the bytes)

    .venv/bin/python scripts/make_application_files.py OUT_DIR [NAME ...]

test/keras/keras-applications.test.ts runs it (cached in .cache/keras-applications).
"""
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from make_keras_files import weight_records  # noqa: E402

# Each family's smallest input (InceptionV3 and InceptionResNetV2 need 75x75, Xception 71x71).
APPLICATIONS = {
    "ConvNeXtTiny": 32,
    "DenseNet121": 32,
    "EfficientNetB0": 32,
    "EfficientNetV2B0": 32,
    "InceptionResNetV2": 75,
    "InceptionV3": 75,
    "MobileNet": 32,
    "MobileNetV2": 32,
    "MobileNetV3Large": 32,
    "MobileNetV3Small": 32,
    "NASNetMobile": 32,
    "ResNet50": 32,
    "ResNet50V2": 32,
    "VGG16": 32,
    "Xception": 71,
}


def build(name: str):
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    size = APPLICATIONS[name]
    model = getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3), classes=10)
    rng = np.random.default_rng(0)
    for weight in model.weights:
        shape = tuple(weight.shape)
        value = rng.integers(1, 1000, shape) if "int" in str(weight.dtype) else rng.uniform(-1.0, 1.0, shape)
        weight.assign(np.asarray(value).astype(weight.dtype))
    return model


def main() -> None:
    import keras

    out = Path(sys.argv[1])
    names = sys.argv[2:] or list(APPLICATIONS)
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        start = time.perf_counter()
        model = build(name)
        model.save(out / f"{name}.keras")
        expected = {"file": f"{name}.keras", "keras_version": keras.__version__, "weights": weight_records(model)}
        (out / f"{name}.weights.json").write_text(json.dumps(expected) + "\n")
        size = (out / f"{name}.keras").stat().st_size
        print(f"{name}: {len(model.weights)} weights, {size / 1e6:.1f} MB, {time.perf_counter() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main()
