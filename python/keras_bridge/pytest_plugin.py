"""pytest plugin: write keras-bridge bundles from a project's own Python tests.

Installed with keras_bridge (entry point `pytest11`), it adds

- the option `--keras-bridge-bundles DIR`: where bundles go (default: a temporary directory of
  the session), so that a JavaScript test suite can check them with `keras-bridge parity` or
  `expectParity` from 'keras-bridge/testing';
- the fixture `keras_bridge_bundle`: a function `(model, name, *, seed=0, batch_size=2) -> Path`
  that exports `model` as the bundle `<DIR>/<name>`.

    def test_export_my_model(keras_bridge_bundle):
        bundle = keras_bridge_bundle(build_my_model(), "my_model")
        assert (bundle / "manifest.json").exists()
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

_BUNDLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def pytest_addoption(parser):
    parser.addoption(
        "--keras-bridge-bundles",
        metavar="DIR",
        default=None,
        help="directory for bundles written by the keras_bridge_bundle fixture (default: a temporary directory)",
    )


@pytest.fixture(scope="session")
def keras_bridge_bundle_dir(request, tmp_path_factory) -> Path:
    configured = request.config.getoption("--keras-bridge-bundles")
    directory = Path(configured) if configured else tmp_path_factory.mktemp("keras_bridge_bundles")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def keras_bridge_bundle(keras_bridge_bundle_dir):
    from .exporter import export

    def write(model, name: str, *, seed: int = 0, batch_size: int = 2) -> Path:
        if not _BUNDLE_NAME.match(name):
            raise ValueError(f"bundle name {name!r} must be a plain file name (letters, digits, '.', '_', '-')")
        return export(model, keras_bridge_bundle_dir / name, seed=seed, batch_size=batch_size)

    return write
