"""Tiny image folders written by tests."""

from __future__ import annotations

from pathlib import Path


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
