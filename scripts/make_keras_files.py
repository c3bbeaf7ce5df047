"""Writes fixtures/keras/: small Keras model files for the TypeScript .keras/.h5 reader to read.

For every model file `<name>.keras` (or `<name>.h5`) it also writes `<name>.weights.json`: what the
live Keras model says its weights are, layer by layer in `model.layers` order and, within a
layer, in `layer.weights` order: layer name, index, Keras's weight name and path, shape, dtype and
the sha256 of the weight's little-endian bytes. test/keras/ checks the reader against it bit for bit.
For the models the converter fully supports whose config needed rewriting (legacy files) or whose
weights sit in a nested model, `probe` also holds Keras's outputs for seeded inputs.

The seed models are built exactly as `scripts/make-fixtures.sh` builds the bundles in
fixtures/bundles/ (a fresh Keras session, `keras.utils.set_random_seed(0)`, then the factory), so
converting `<seed>.keras` must give the same weight bytes as converting the bundle.

Legacy files: `<name>_legacy.h5` is what Keras 3's `model.save("x.h5")` writes; `<name>_keras2.h5`
is written by real Keras 2 (tf_keras), in a child process with TF_USE_LEGACY_KERAS=1 so that the
seed's `tf.keras` layers are Keras 2 layers. tf_keras is not in the project's venv; to regenerate
those files install it beside it (the Keras 2 files are otherwise kept as committed):

    .venv/bin/python -m pip install --no-deps --target /tmp/tf_keras tf_keras==2.21.0
    KERAS2_PATH=/tmp/tf_keras .venv/bin/python scripts/make_keras_files.py

It also writes fixtures/hdf5/scalar_datasets.h5 (0-d datasets of every weight dtype the reader takes)
and its .json (name `scalar_datasets`).

Run from the repository root after `npm run setup`; commit fixtures/keras/ and fixtures/hdf5/. Every file is a few kB.
Give names (`.venv/bin/python scripts/make_keras_files.py custom_layers`) to write only those files.
"""
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "keras"
sys.path[:0] = [str(ROOT / "fixtures" / "seed"), str(ROOT / "fixtures" / "models")]

import numpy as np  # noqa: E402


def weight_records(model) -> list:
    """One record per weight of each of model.layers, in layer.weights order (what Keras loads)."""
    records = []
    for layer in model.layers:
        for index, weight in enumerate(layer.weights):
            # np.asarray, not np.ascontiguousarray, which turns a 0-d weight into shape (1,).
            value = np.asarray(weight.numpy())
            records.append({
                "layer": layer.name,
                "index": index,
                "keras_name": weight.name,
                "keras_path": getattr(weight, "path", weight.name),
                "shape": list(value.shape),
                "dtype": str(value.dtype),
                "sha256": hashlib.sha256(value.astype(value.dtype.newbyteorder("<")).tobytes()).hexdigest(),
            })
    return records


def probe(model) -> dict:
    """Keras's outputs for seeded standard-normal inputs (batch 2): to check a converted model end to end."""
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal((2, *tuple(t.shape)[1:])).astype("float32") for t in model.inputs]
    outputs = model.predict(inputs, verbose=0)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return {"inputs": [x.tolist() for x in inputs], "outputs": [np.asarray(y).tolist() for y in outputs]}


def write_expected(name: str, file_name: str, model, keras_version: str, with_probe: bool = False) -> None:
    expected = {"file": file_name, "keras_version": keras_version, "weights": weight_records(model)}
    if with_probe:
        expected["probe"] = probe(model)
    (OUT / f"{name}.weights.json").write_text(json.dumps(expected, indent=2) + "\n")


def seeded(factory):
    """A fresh Keras session (layer names from 0 again) seeded like `keras-bridge export --seed 0`."""
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    return factory()


def recurrent_model():
    """LSTM, Bidirectional(LSTM) and BatchNormalization: weights held by sub-layers (cells)."""
    import keras

    model = keras.Sequential([
        keras.Input(shape=(5, 3)),
        keras.layers.LSTM(4, return_sequences=True),
        keras.layers.Bidirectional(keras.layers.LSTM(3)),
        keras.layers.BatchNormalization(),
        keras.layers.Dense(2),
    ], name="recurrent")
    randomize_batch_norm_statistics(model)
    return model


def nested_sequential_model():
    """A Sequential used as a layer of a functional model, with a Dense on each side of it."""
    import keras

    inner = keras.Sequential([keras.layers.Dense(3, activation="relu"), keras.layers.Dense(2, name="inner_out")], name="inner")
    x = keras.Input(shape=(4,), name="features")
    y = keras.layers.Dense(4, name="before")(x)
    y = inner(y)
    y = keras.layers.Dense(1, name="after")(y)
    return keras.Model(x, y, name="nested_sequential")


def sublayers_model():
    """Layers whose sub-layers Keras stores under attribute names: attention, stacked cells, wrappers."""
    import keras

    x = keras.Input(shape=(4, 6), name="sequence")
    y = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, name="attention")(x, x)
    y = keras.layers.RNN([keras.layers.LSTMCell(3), keras.layers.GRUCell(2)], return_sequences=True, name="stacked")(y)
    y = keras.layers.TimeDistributed(keras.layers.Dense(2), name="per_step")(y)
    y = keras.layers.GRU(2, name="gru")(y)
    return keras.Model(x, y, name="sublayers")


def randomize_batch_norm_statistics(model) -> None:
    """Moving mean/variance start at 0 and 1; give them distinct values so their order shows."""
    import keras

    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in layer.weights])


def write_keras3_files(only: list) -> None:
    import keras
    from custom_layers import custom_layers_model, scalar_weights_model
    from functional_example import two_branch_model
    from kw_config_layers import kw_functional_model, kw_sequential_model
    from naming_rules import naming_rules_model
    from seed_models import SEED_MODELS

    # custom_layers: a custom layer holding weights in sub-layers (GainBlock), whose order the file
    # does not record; built as scripts/make-fixtures.sh builds fixtures/bundles/custom_layers.
    # naming_rules: layers placed where Keras's group naming (by class, ops not counted, nested
    # models, lists of sub-layers) differs from a naive reading. scalar_weights: 0-d weights.
    factories = {**SEED_MODELS, "two_branch": two_branch_model, "recurrent": recurrent_model,
                 "nested_sequential": nested_sequential_model, "sublayers": sublayers_model,
                 "custom_layers": custom_layers_model, "naming_rules": naming_rules_model,
                 "scalar_weights": scalar_weights_model,
                 # a custom layer whose automatic config has no name; as fixtures/bundles/kw_* are built.
                 "kw_functional": kw_functional_model, "kw_sequential": kw_sequential_model}
    for name, factory in factories.items():
        if only and name not in only:
            continue
        model = seeded(factory)
        model.save(OUT / f"{name}.keras")
        write_expected(name, f"{name}.keras", model, keras.__version__, with_probe=name == "nested_sequential")
    for name, factory in {"two_branch_legacy": two_branch_model, "scalar_weights_legacy": scalar_weights_model}.items():
        if only and name not in only:
            continue
        model = seeded(factory)
        model.save(OUT / f"{name}.h5")
        write_expected(name, f"{name}.h5", model, keras.__version__, with_probe=name == "two_branch_legacy")


def keras2_functional_model():
    """Keras 2: a functional model with a shared layer, the seed's custom layer and a nested Sequential."""
    import tensorflow as tf
    from seed_models import SwishActivation, TemporalWeighting

    keras = tf.keras
    left = keras.Input(shape=(6,), name="left")
    right = keras.Input(shape=(6,), name="right")
    shared = keras.layers.Dense(8, activation="tanh", name="shared_dense")
    merged = keras.layers.Concatenate(name="concat")([SwishActivation(name="swish_left")(shared(left)), shared(right)])
    weighted = TemporalWeighting(units=4, name="temporal")(merged)
    inner = keras.Sequential([keras.layers.Dense(3, input_shape=(4,)), keras.layers.Dense(2)], name="inner")
    return keras.Model([left, right], [inner(weighted)], name="keras2_functional")


def write_keras2_files() -> None:
    """Runs in the child process (TF_USE_LEGACY_KERAS=1): seed models saved by Keras 2."""
    import tensorflow as tf
    import tf_keras
    from seed_models import temporal_model

    for name, factory in {"temporal_keras2": temporal_model, "functional_keras2": keras2_functional_model}.items():
        tf.keras.backend.clear_session()
        tf.keras.utils.set_random_seed(0)
        model = factory()
        model.save(OUT / f"{name}.h5")
        write_expected(name, f"{name}.h5", model, tf_keras.__version__, with_probe=True)


def write_scalar_datasets() -> None:
    """fixtures/hdf5/scalar_datasets.h5: one 0-d dataset of each dtype the reader takes, as h5py
    writes them (bool as a 1-byte enum), and .json with each one's dtype and little-endian bytes."""
    import h5py

    values = {"float32": np.float32(0.1), "float64": np.float64(-2.5e-300), "int32": np.int32(-123456),
              "int64": np.int64(-(2**62) - 3), "bool": np.bool_(True)}
    out = ROOT / "fixtures" / "hdf5"
    out.mkdir(parents=True, exist_ok=True)
    with h5py.File(out / "scalar_datasets.h5", "w") as f:
        for name, value in values.items():
            f.create_dataset(name, data=value)
    expected = {name: {"dtype": name, "bytes": np.asarray(value).astype(np.asarray(value).dtype.newbyteorder("<")).tobytes().hex()} for name, value in values.items()}
    (out / "scalar_datasets.json").write_text(json.dumps(expected, indent=2) + "\n")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    if "scalar_datasets" in sys.argv[1:] or len(sys.argv) == 1:
        write_scalar_datasets()
    if "--keras2-child" in sys.argv:
        write_keras2_files()
        return
    # Names given (e.g. `custom_layers`): only those files are written, the others kept as committed.
    only = [a for a in sys.argv[1:] if not a.startswith("-")]
    write_keras3_files(only)
    if only:
        return
    keras2_path = os.environ.get("KERAS2_PATH")
    if not keras2_path:
        print("make_keras_files: KERAS2_PATH not set; Keras 2 .h5 files kept as committed")
    else:
        env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "PYTHONPATH": keras2_path}
        subprocess.run([sys.executable, __file__, "--keras2-child"], env=env, check=True)
    for path in sorted(OUT.iterdir()):
        print(f"{path.stat().st_size:8d}  {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
