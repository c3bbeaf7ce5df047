"""export(..., float64_reference=True): each golden's float32 error, measured against a float64 copy.

Keras's kernel variants, which float64_reference also runs by default, are left out here
(kernel_variants=False: two subprocess exports each) and tested in test_kernel_variants.py."""
import json

import numpy as np
import pytest

import keras
import keras_bridge
from bundle_io import read_bundle, unpack
from conftest import build_seed_model
from keras import layers
from keras_bridge import cli
from keras_bridge.errors import ExportError

NOT_COMPUTED = {"input", "cotangent"}


def well_conditioned_model():
    keras.utils.set_random_seed(0)
    x = keras.Input((8,), name="x")
    y = layers.Dense(16, activation="tanh", name="hidden")(x)
    return keras.Model(x, layers.Dense(4, name="out")(y))


def batch_norm_over_two_values_model():
    """At batch 1, BatchNormalization in training mode normalizes over the 2 values of each channel;
    the large bias before it makes x - mean cancel most of float32's digits."""
    keras.utils.set_random_seed(0)
    x = keras.Input((1, 2, 4), name="image")
    y = x
    for i in range(4):
        y = layers.Conv2D(6, 1, bias_initializer=keras.initializers.Constant(100.0), name=f"conv{i}")(y)
        y = layers.BatchNormalization(epsilon=1e-5, name=f"bn{i}")(y)
        y = layers.Activation("relu", name=f"relu{i}")(y)
    return keras.Model(x, layers.Dense(3, name="out")(layers.Flatten(name="flat")(y)))


class Float32Only(keras.layers.Layer):
    """A layer that refuses any other dtype: no float64 copy of a model with it can be built."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.dtype_policy.name != "float32":
            raise ValueError("Float32Only runs in float32 only")

    def call(self, inputs):
        return inputs * 2.0


def computed(tensors: list) -> list:
    return [t for t in tensors if t["kind"] not in NOT_COMPUTED]


def max_error(tensors: list) -> float:
    return max(t["float64_error"] for t in computed(tensors))


@pytest.fixture(scope="module")
def well(tmp_path_factory):
    return read_bundle(keras_bridge.export(well_conditioned_model(), tmp_path_factory.mktemp("well") / "b", float64_reference=True, kernel_variants=False))


@pytest.fixture(scope="module")
def ill(tmp_path_factory):
    path = tmp_path_factory.mktemp("ill") / "b"
    return read_bundle(keras_bridge.export(batch_norm_over_two_values_model(), path, batch_size=1, float64_reference=True, kernel_variants=False))


def test_every_computed_golden_gets_a_non_negative_float64_error_added_to_its_reference_error(well):
    reference = well.manifest["goldens"]["reference"]
    assert reference["float64"] is True
    assert reference["not_measured"] == [] and reference["not_measured_count"] == 0
    assert reference["measured"] == len(computed(well.tensors))
    for t in computed(well.tensors):
        assert t["float64_error"] >= 0
        assert t["reference_error"] == t["float64_error"]  # no finite differences here
    for t in well.tensors:
        if t["kind"] in NOT_COMPUTED:
            assert "float64_error" not in t and t["reference_error"] is None


def test_the_error_is_the_distance_from_the_float64_model(well):
    x = well.golden("input", index=0).astype(np.float64)
    w = [unpack(well.weights_bin, r).astype(np.float64) for r in well.manifest["weights"]]
    hidden = np.tanh(x @ w[0] + w[1])
    output = hidden @ w[2] + w[3]
    record = well.record("output", index=0)
    assert record["float64_error"] == pytest.approx(float(np.max(np.abs(well.golden("output", index=0) - output))), rel=1e-6, abs=1e-12)


def test_a_well_conditioned_model_is_within_float32_rounding(well):
    assert max_error(well.tensors) < 1e-6


def test_batch_norm_over_two_values_is_far_worse_in_training_mode(well, ill):
    training = ill.manifest["goldens"]["training"]["tensors"]
    assert max_error(training) > 100 * max_error(well.tensors)
    assert max_error(training) > 10 * max_error(ill.tensors)  # the same model at inference
    worst = max(computed(training), key=lambda t: t["float64_error"])
    assert worst["kind"] in ("layer_output", "grad_weight", "grad_input", "weight_after_pass", "output")


def test_without_the_flag_the_manifest_has_no_trace_of_it(tmp_path):
    bundle = read_bundle(keras_bridge.export(well_conditioned_model(), tmp_path / "b"))
    assert "reference" not in bundle.manifest["goldens"]
    assert all("float64_error" not in t for t in bundle.tensors)


def test_the_flag_leaves_goldens_and_weights_as_they_were(tmp_path):
    plain = read_bundle(keras_bridge.export(batch_norm_over_two_values_model(), tmp_path / "a", batch_size=1))
    measured = read_bundle(keras_bridge.export(batch_norm_over_two_values_model(), tmp_path / "b", batch_size=1, float64_reference=True, kernel_variants=False))
    assert plain.goldens_bin == measured.goldens_bin
    assert plain.weights_bin == measured.weights_bin


def test_two_exports_with_the_flag_are_byte_identical(tmp_path):
    first = read_bundle(keras_bridge.export(batch_norm_over_two_values_model(), tmp_path / "a", batch_size=1, float64_reference=True, kernel_variants=False))
    second = read_bundle(keras_bridge.export(batch_norm_over_two_values_model(), tmp_path / "b", batch_size=1, float64_reference=True, kernel_variants=False))
    assert first.goldens_bin == second.goldens_bin
    assert first.weights_bin == second.weights_bin
    # Everything but the names Keras numbers per process (functional, functional_1, ...) matches.
    assert first.manifest["goldens"]["tensors"] == second.manifest["goldens"]["tensors"]
    assert first.manifest["goldens"]["training"] == second.manifest["goldens"]["training"]
    assert first.manifest["goldens"]["reference"] == second.manifest["goldens"]["reference"]


def test_a_py_function_layer_is_not_measured_downstream_and_finite_differences_keep_their_estimate(tmp_path):
    progress = []
    model = build_seed_model("risk")
    dense, risk, head = (layer.name for layer in model.layers)  # numbered per process
    bundle = read_bundle(keras_bridge.export(model, tmp_path / "b", float64_reference=True, kernel_variants=False, progress=progress.append))
    reference = bundle.manifest["goldens"]["reference"]
    reasons = {entry["reason"]: entry["goldens"] for entry in reference["not_measured"]}
    below = next(goldens for reason, goldens in reasons.items() if f"{risk!r} computes below float64" in reason and "depends on it" in reason)
    assert {(g["kind"], g.get("layer")) for g in below} == {("output", None), ("layer_output", risk), ("layer_output", head)}
    fd = next(goldens for reason, goldens in reasons.items() if "finite-difference layer" in reason)
    assert {g["kind"] for g in fd} >= {"grad_input", "grad_weight"}
    # Upstream of the py_function layer, its output is measured.
    assert bundle.record("layer_output", layer=dense)["float64_error"] >= 0
    for t in bundle.records("grad_weight", layer=dense):
        assert t["source"] == "finite_difference" and t["float64_error"] is None and t["reference_error"] > 0
    assert reference["measured"] + reference["not_measured_count"] == len(computed(bundle.tensors))
    assert any("goldens not measured" in line and risk in line for line in progress)


def test_nothing_measurable_refuses_the_export_and_says_how_to_proceed(tmp_path):
    x = keras.Input((3,))
    model = keras.Model(x, Float32Only(name="float32_only")(x))
    with pytest.raises(ExportError, match=r"no golden could be measured.*Float32Only runs in float32 only.*without --float64-reference"):
        keras_bridge.export(model, tmp_path / "b", float64_reference=True, kernel_variants=False)
    assert not (tmp_path / "b").exists()
    keras_bridge.export(model, tmp_path / "b")  # without the flag it exports


def test_after_training_weights_are_listed_as_not_measured(tmp_path):
    bundle = read_bundle(keras_bridge.export(well_conditioned_model(), tmp_path / "b", train_steps=1, float64_reference=True, kernel_variants=False))
    reference = bundle.manifest["goldens"]["reference"]
    (entry,) = reference["not_measured"]
    assert "optimizer steps" in entry["reason"]
    assert {(g["section"], g["optimizer"]) for g in entry["goldens"]} == {("after_training", "sgd"), ("after_training", "adam")}
    for run in bundle.manifest["goldens"]["after_training"]["runs"]:
        assert all(t["float64_error"] is None for t in run["tensors"])


def test_cli_float64_reference(tmp_path, capsys, restore_sys_path):
    from conftest import SEED_DIR

    out_dir = tmp_path / "b"
    code = cli.main(["export", "--out", str(out_dir), "--path", str(SEED_DIR), "--factory", "seed_models:swish_model", "--float64-reference", "--no-kernel-variants"])
    assert code == 0
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["goldens"]["reference"]["float64"] is True
    assert "float64 reference:" in capsys.readouterr().err
