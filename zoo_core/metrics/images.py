"""Where evaluation images come from: a model, a folder of generated images, real data; border cropping.

Every source yields batches of float NCHW images in [-1, 1] and never holds more than one chunk.
Real data and image folders go through ``zoo_core.data`` (``open_source``, ``ImageDataset``) with
deterministic preprocessing (center crop, resize; no flips).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from ..data import DataConfig, FolderSource, ImageDataset, Source, open_source, stream_seed
from ..errors import ZooError
from ..rng import seeded

CHUNK = 500  # images per model.generate call: the images do not depend on --batch-size


# ---------------------------------------------------------------- uniform borders
def _bbox(mask_rows: torch.Tensor, mask_cols: torch.Tensor) -> tuple[int, int, int, int] | None:
    rows, cols = mask_rows.nonzero().flatten(), mask_cols.nonzero().flatten()
    if rows.numel() == 0 or cols.numel() == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def border_box(chw: torch.Tensor, tol: float) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of what differs from the top-left pixel's colour by more than ``tol``."""
    diff = (chw.float() - chw[:, :1, :1].float()).abs().amax(0) > tol
    return _bbox(diff.any(1), diff.any(0))


def crop_uniform_border_pil(img, tol: int = 8):
    """Crop rows and columns at the edges that are all the corner colour (white padding, letterboxing)."""
    import numpy as np

    arr = torch.from_numpy(np.array(img.convert("RGB"))).permute(2, 0, 1)
    box = border_box(arr, tol)
    if box is None:
        return img
    top, bottom, left, right = box
    return img.crop((left, top, right, bottom))


def crop_uniform_border(images: torch.Tensor, tol: int = 8) -> torch.Tensor:
    """The tensor version for generated images: crop, center-crop square, resize back to H x W."""
    import torch.nn.functional as F

    out = []
    h, w = images.shape[-2:]
    for img in images:
        box = border_box((img.clamp(-1, 1) + 1) * 127.5, tol)
        if box is not None and box != (0, h, 0, w):
            top, bottom, left, right = box
            img = img[:, top:bottom, left:right]
            side = min(img.shape[-2:])
            t, le = (img.shape[-2] - side) // 2, (img.shape[-1] - side) // 2
            img = img[:, t:t + side, le:le + side]
            img = F.interpolate(img[None].float(), size=(h, w), mode="bilinear", align_corners=False,
                                antialias=True)[0].clamp(-1, 1)
        out.append(img)
    return torch.stack(out)


class BorderCropSource(Source):
    """Wraps a :class:`zoo_core.data.Source`; every image has its uniform border cropped."""

    def __init__(self, inner: Source, tol: int = 8):
        self.inner, self.tol = inner, tol
        self.labels = getattr(inner, "labels", [-1] * len(inner))
        self.captions = getattr(inner, "captions", [[] for _ in range(len(inner))])
        self.class_names = getattr(inner, "class_names", [])

    def __len__(self) -> int:
        return len(self.inner)

    def load(self, i: int):
        return crop_uniform_border_pil(self.inner.load(i), self.tol)


# ---------------------------------------------------------------- what SRC is
def is_model_dir(path: Path) -> bool:
    """A run folder (with ``final/``) or a saved model, as opposed to a folder of images."""
    from ..runs import Run

    run = Run(path)
    if run.finished:
        return True
    try:
        return "zoo_model" in (run.read_config() or {})
    except ZooError:
        return False


def open_src(src: str | Path, device=None, revision: str | None = None, trust_code: bool = False):
    """A loaded model for a run / saved-model folder / repo id, or the Path of a folder of images."""
    path = Path(src).expanduser()
    if path.is_dir() and not is_model_dir(path):
        return path
    from ..hub import from_pretrained

    return from_pretrained(src, revision=revision, device=device, trust_code=trust_code)


# ---------------------------------------------------------------- batches
def model_batches(model, n: int, seed: int, batch_size: int, gen_kwargs: dict[str, Any] | None = None
                  ) -> Iterator[torch.Tensor]:
    """``n`` images from ``model.generate`` in chunks of :data:`CHUNK`, each with its own derived seed."""
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        for k, start in enumerate(range(0, n, CHUNK)):
            b = min(CHUNK, n - start)
            with torch.no_grad():
                images = model.generate(b, seed=stream_seed(seed, k), batch_size=batch_size, **(gen_kwargs or {}))
            for i in range(0, b, batch_size):
                yield images[i:i + batch_size]
    finally:
        if was_training:
            model.train()


def tensor_batches(images: torch.Tensor, n: int | None, batch_size: int) -> Iterator[torch.Tensor]:
    n = len(images) if n is None else min(n, len(images))
    for i in range(0, n, batch_size):
        yield images[i:i + batch_size]


def folder_resolution(folder: Path) -> int:
    from PIL import Image

    src = FolderSource(folder, labels="none")
    with Image.open(src.paths[0]) as im:
        return min(im.size)


def real_dataset(data: Any, res: int, channels: int, seed: int, crop_border: bool):
    """``data``: a folder path, ``builtin:NAME``, a DataConfig, a Source, an ImageDataset or a torch Dataset."""
    if isinstance(data, ImageDataset):
        ds = copy.copy(data)
        ds.cfg = replace(ds.cfg, flip=False)
        if crop_border:
            ds.source = BorderCropSource(ds.source)
        return ds
    if isinstance(data, (str, Path)):
        cfg = DataConfig(data=str(data))
    elif isinstance(data, DataConfig):
        cfg = replace(data, flip=False)
    elif isinstance(data, Source):
        cfg, source = DataConfig(labels="none"), data
        return ImageDataset(BorderCropSource(source) if crop_border else source, res, channels, cfg)
    elif isinstance(data, torch.utils.data.Dataset):
        return data
    else:
        raise ZooError(f"cannot read images from {type(data).__name__} (pass a folder, builtin:NAME, a "
                       "DataConfig, a Source or a Dataset)")
    source = open_source(cfg, res, seed)
    return ImageDataset(BorderCropSource(source) if crop_border else source, res, channels, cfg)


def folder_dataset(folder: Path, res: int, crop_border: bool) -> ImageDataset:
    """A folder of generated images, read like real data (no labels)."""
    source = FolderSource(folder, labels="none")
    return ImageDataset(BorderCropSource(source) if crop_border else source, res, 3, DataConfig(labels="none"))


def _split(item) -> tuple[torch.Tensor, torch.Tensor | None]:
    if isinstance(item, dict):
        labels = item.get("label")
        return item["image"], labels if isinstance(labels, torch.Tensor) and bool((labels >= 0).all()) else None
    if isinstance(item, (tuple, list)):
        return item[0], item[1] if len(item) > 1 and isinstance(item[1], torch.Tensor) else None
    return item, None


def dataset_batches(ds, n: int | None, seed: int, batch_size: int, workers: int = 0
                    ) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """``(images, labels or None)`` for ``n`` items (a seeded random subset when the dataset is larger)."""
    total = len(ds)
    if total == 0:
        raise ZooError("the dataset is empty")
    n = total if n is None else min(n, total)
    order = torch.randperm(total, generator=seeded(seed))[:n].sort().values.tolist()
    keys = [(i, stream_seed(seed, i)) for i in order] if isinstance(ds, ImageDataset) else order
    loader = torch.utils.data.DataLoader(ds, batch_size=batch_size, sampler=keys, num_workers=workers)
    for batch in loader:
        images, labels = _split(batch)
        if images.dtype == torch.uint8:
            images = images.float() / 127.5 - 1
        yield images, labels


def count(ds, n: int | None) -> int:
    return len(ds) if n is None else min(n, len(ds))
