"""Shared fixtures: tiny image folders, the toy model family, a registry that knows it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from hub_fixtures import hub, saved, tiny  # noqa: E402,F401 - fixtures of test_hub / test_trust
from sample_data import make_images  # noqa: E402


@pytest.fixture
def toy_spec():
    """Register the toy model family in the process-wide registry for one test."""
    from zoo_core.plugins import registry
    from zoo_core.registry import ModelSpec

    spec = ModelSpec("toy", "a toy affine model for tests", "toy", "toy_zoo:ToyConfig", "toy_zoo:ToyModel",
                     "toy_zoo:ToyTrainer", samplers=(), distribution="zoo-toy", version="0.0")
    reg = registry()
    reg.tables["model"]["toy"] = spec
    yield spec
    reg.tables["model"].pop("toy", None)


@pytest.fixture
def image_dir(tmp_path):
    root = tmp_path / "images"
    make_images(root)
    return root
