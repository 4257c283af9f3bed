"""Shared fixtures: tiny image folders, the toy model family, a registry that knows it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

TOY_SPEC = None


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


def make_images(root: Path, n: int = 12, size: int = 12, classes=("a", "b"), mode: str = "RGB", seed: int = 0):
    """Write ``n`` small random PNGs spread over class folders."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        folder = root / classes[i % len(classes)] if classes else root
        folder.mkdir(parents=True, exist_ok=True)
        arr = rng.integers(0, 256, (size, size, 4 if mode == "RGBA" else 3), dtype=np.uint8)
        img = Image.fromarray(arr, "RGBA" if mode == "RGBA" else "RGB")
        if mode == "L":
            img = img.convert("L")
        p = folder / f"img{i:03d}.png"
        img.save(p)
        paths.append(p)
    return paths


@pytest.fixture
def image_dir(tmp_path):
    root = tmp_path / "images"
    make_images(root)
    return root
