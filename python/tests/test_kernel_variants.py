"""export(..., float64_reference=True): Keras's other float32 kernel variants (kernel_variants.py)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import keras
import keras_bridge
from bundle_io import read_bundle, unpack
from conftest import PYTHON_DIR, TESTS_DIR
from keras_bridge import cli, kernel_variants

NOT_COMPUTED = {"input", "cotangent"}
FACTORY = "test_float64_reference:batch_norm_over_two_values_model"


def computed(bundle, section="goldens") -> list:
    tensors = bundle.manifest["goldens"]["tensors"] if section == "goldens" else bundle.manifest["goldens"]["training"]["tensors"]
    return [t for t in tensors if t["kind"] not in NOT_COMPUTED]


def export_in_subprocess(out, env_changes: dict, *flags) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PYTHON_DIR), os.environ.get("PYTHONPATH", "")])}
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    argv = [sys.executable, "-m", "keras_bridge", "export", "--out", str(out), "--factory", FACTORY, "--path", str(TESTS_DIR), "--batch-size", "1", *flags]
    run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """The ill-conditioned BatchNormalization model, exported with the CLI as a user would."""
    out = tmp_path_factory.mktemp("variants") / "b"
    export_in_subprocess(out, {}, "--float64-reference")
    return read_bundle(out)


def test_the_two_other_variants_run_and_every_measured_golden_gets_their_error(measured):
    section = measured.manifest["goldens"]["reference"]["kernel_variants"]
    mine = kernel_variants.current_variant()
    assert section["export_variant"] == mine
    assert sorted(v["name"] for v in section["variants"]) == sorted(v.name for v in kernel_variants.VARIANTS if v.name != mine)
    assert all(v["measured"] for v in section["variants"]), section
    tensors = computed(measured) + computed(measured, "training")
    assert section["measured"] == len(tensors)
    assert all(t["kernel_variant_error"] >= 0 for t in tensors)
    # Ill-conditioned in training mode: the variants' float32 errors are far from zero there.
    assert max(t["kernel_variant_error"] for t in computed(measured, "training")) > 1e-4


def test_the_error_bounds_another_kernel_variant_exported_independently(measured, tmp_path):
    """|variant - golden| <= |variant - exact| + |golden - exact| <= V + E, for a variant run here by hand:
    whichever of oneDNN on and off the export did not use."""
    other = {"TF_ENABLE_ONEDNN_OPTS": "1" if kernel_variants.current_variant() == "eigen" else "0", "ONEDNN_MAX_CPU_ISA": None}
    export_in_subprocess(tmp_path / "other", other, "--no-training-mode")
    variant = read_bundle(tmp_path / "other")
    checked = 0
    for record in computed(measured):
        match = [t for t in computed(variant) if all(t.get(k) == record.get(k) for k in ("kind", "layer", "node", "index"))]
        assert len(match) == 1, record
        difference = np.max(np.abs(unpack(variant.goldens_bin, match[0]).astype(np.float64) - unpack(measured.goldens_bin, record)))
        assert difference <= record["kernel_variant_error"] + record["float64_error"], (record, difference)
        checked += 1
    assert checked > 10


def test_without_variants_no_golden_has_a_kernel_variant_error(tmp_path):
    keras.utils.set_random_seed(0)
    from test_float64_reference import batch_norm_over_two_values_model

    bundle = read_bundle(keras_bridge.export(batch_norm_over_two_values_model(), tmp_path / "b", batch_size=1, float64_reference=True, kernel_variants=False))
    assert "kernel_variants" not in bundle.manifest["goldens"]["reference"]
    assert not any("kernel_variant_error" in t for t in computed(bundle))


class Doubling(keras.layers.Layer):
    def call(self, inputs):
        return inputs * 2.0


def test_a_model_no_other_process_can_rebuild_is_exported_without_them_and_says_why(tmp_path):
    Doubling.__module__ = "__main__"  # as if defined in a notebook or script
    x = keras.Input((3,), name="x")
    model = keras.Model(x, keras.layers.Dense(2, name="out")(Doubling(name="doubling")(x)))
    progress = []
    bundle = read_bundle(keras_bridge.export(model, tmp_path / "b", float64_reference=True, progress=progress.append))
    section = bundle.manifest["goldens"]["reference"]["kernel_variants"]
    assert section["measured"] == 0
    assert all(not v["measured"] and "__main__" in v["reason"] for v in section["variants"])
    assert any("not measured" in line and "__main__" in line for line in progress)
    assert all(t.get("float64_error") is not None and "kernel_variant_error" not in t for t in computed(bundle))


def test_the_variant_this_process_runs_is_read_from_the_environment():
    assert kernel_variants.current_variant({}) == "onednn"
    assert kernel_variants.current_variant({"TF_ENABLE_ONEDNN_OPTS": "0"}) == "eigen"
    assert kernel_variants.current_variant({"ONEDNN_MAX_CPU_ISA": "avx2"}) == "onednn-avx2"
    assert [v.name for v in kernel_variants.other_variants({"TF_ENABLE_ONEDNN_OPTS": "0"})] == ["onednn", "onednn-avx2"]
