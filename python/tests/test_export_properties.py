"""Property: any small Keras model, saved as .keras and exported by the CLI, gives a valid bundle
(the manifest parses, every weight record's bytes hold the model's weight) or a typed ExportError
(exit 2): never another exception (exit 1).

CI runs 12 examples; KERAS_BRIDGE_FUZZ=1 runs 200 (KERAS_BRIDGE_FUZZ=N: N examples).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import keras
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bundle_io import read_bundle, unpack
from keras_bridge import cli

_FUZZ = os.environ.get("KERAS_BRIDGE_FUZZ", "")
EXAMPLES = (200 if _FUZZ == "1" else int(_FUZZ)) if _FUZZ.isdigit() and int(_FUZZ) > 0 else 12

# Layer names: ordinary ones and ones a hostile file could carry (unicode, escapes, quotes).
names = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from("abz_09-. é\u202e\x1b[\"'"), min_size=1, max_size=12),
)


@st.composite
def layer_stacks(draw):
    """(rank-3 input?, [(kind, kwargs), ...]): Dense, Conv1D (rank 3 only), LayerNormalization,
    Dropout, Activation, each with random sizes."""
    sequence = draw(st.booleans())
    kinds = ["dense", "layer_norm", "dropout", "activation"] + (["conv1d"] if sequence else [])
    stack = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(kinds))
        if kind == "dense":
            kwargs = {"units": draw(st.integers(1, 8)), "activation": draw(st.sampled_from([None, "relu", "tanh", "gelu", "sigmoid"])),
                      "use_bias": draw(st.booleans())}
        elif kind == "conv1d":
            kwargs = {"filters": draw(st.integers(1, 6)), "kernel_size": draw(st.integers(1, 3)), "padding": "same",
                      "dilation_rate": draw(st.integers(1, 2))}
        elif kind == "layer_norm":
            kwargs = {"epsilon": draw(st.sampled_from([1e-3, 1e-6])), "center": draw(st.booleans()), "scale": draw(st.booleans())}
        elif kind == "dropout":
            kwargs = {"rate": draw(st.sampled_from([0.0, 0.25, 0.5])), "seed": draw(st.integers(0, 9))}
        else:
            kwargs = {"activation": draw(st.sampled_from(["relu", "softmax", "swish", "linear", "elu"]))}
        stack.append((kind, {**kwargs, "name": draw(names)}))
    shape = (draw(st.integers(1, 6)), draw(st.integers(1, 5))) if sequence else (draw(st.integers(1, 6)),)
    return shape, stack, draw(st.booleans()), draw(st.integers(1, 3)), draw(st.integers(0, 2**16))


_CLASSES = {"dense": "Dense", "conv1d": "Conv1D", "layer_norm": "LayerNormalization", "dropout": "Dropout", "activation": "Activation"}


def build(shape, stack, functional):
    """The model; None when Keras itself refuses the layers (e.g. a duplicated name)."""
    try:
        layers = [getattr(keras.layers, _CLASSES[kind])(**{k: v for k, v in kwargs.items() if v is not None or k != "name"}) for kind, kwargs in stack]
        if functional:
            inputs = keras.Input(shape, name="x")
            outputs = inputs
            for layer in layers:
                outputs = layer(outputs)
            return keras.Model(inputs, outputs, name="fuzz_functional")
        return keras.Sequential([keras.Input(shape), *layers], name="fuzz_sequential")
    except ValueError:
        return None


@settings(max_examples=EXAMPLES, deadline=None, derandomize=not _FUZZ, suppress_health_check=[HealthCheck.too_slow])
@given(layer_stacks())
def test_random_models_export_or_fail_typed(example):
    shape, stack, functional, batch_size, seed = example
    keras.utils.set_random_seed(seed)
    model = build(shape, stack, functional)
    if model is None:
        return
    root = Path(tempfile.mkdtemp(prefix="kb-fuzz-"))
    try:
        path = root / "model.keras"
        model.save(path)
        code = cli.main(["export", "--model", str(path), "--out", str(root / "bundle"), "--seed", str(seed),
                         "--batch-size", str(batch_size), "--no-training-mode"])
        assert code in (0, 2), f"exit {code}: an untyped error for {example}"
        # What the process left behind must not leak into the next model (Keras's name scopes).
        assert not keras.src.backend.common.global_state.get_global_attribute("name_scope_stack"), "a Keras name scope was left entered"
        if code == 2:
            assert not (root / "bundle").exists()
            return
        bundle = read_bundle(root / "bundle")
        expected = {(layer.name, w.name): np.asarray(w.numpy()) for layer in model.layers for w in layer.weights}
        assert sorted((r["layer"], r["name"]) for r in bundle.manifest["weights"]) == sorted(expected)
        for record in bundle.manifest["weights"]:
            np.testing.assert_array_equal(unpack(bundle.weights_bin, record), expected[(record["layer"], record["name"])])
        assert sum(r["byte_length"] for r in bundle.manifest["weights"]) == len(bundle.weights_bin)
        assert [layer["name"] for layer in bundle.manifest["layers"]][-len(stack):] == [layer.name for layer in model.layers][-len(stack):]
    finally:
        shutil.rmtree(root, ignore_errors=True)
