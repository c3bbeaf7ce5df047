"""Shared set-up: import paths, and the three seed models exported once per session."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED_DIR = REPO_ROOT / "fixtures" / "seed"
PYTHON_DIR = REPO_ROOT / "python"
TESTS_DIR = Path(__file__).resolve().parent

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
for entry in (str(TESTS_DIR), str(SEED_DIR), str(PYTHON_DIR)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

import keras  # noqa: E402
import seed_models  # noqa: E402

import keras_bridge  # noqa: E402
from bundle_io import Bundle, read_bundle  # noqa: E402


@dataclass
class SeedExport:
    name: str
    model: "keras.Model"
    bundle: Bundle


def build_seed_model(name: str, seed: int = 0):
    """What `--factory seed_models:<name>_model --seed <seed>` builds."""
    keras.utils.set_random_seed(seed)
    return seed_models.SEED_MODELS[name]()


@pytest.fixture(scope="session")
def seed_exports(tmp_path_factory) -> dict:
    """swish, temporal and risk, each exported with seed 0 and batch size 2."""
    root = tmp_path_factory.mktemp("seed-bundles")
    exports = {}
    for name in seed_models.SEED_MODELS:
        model = build_seed_model(name)
        path = keras_bridge.export(model, root / name, seed=0, batch_size=2)
        exports[name] = SeedExport(name, model, read_bundle(path))
    return exports


@pytest.fixture
def restore_sys_path():
    """For in-process CLI runs, whose --path edits sys.path."""
    saved = list(sys.path)
    yield
    sys.path[:] = saved
