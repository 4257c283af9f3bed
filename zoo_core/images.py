"""Converting [-1, 1] tensors to pictures on disk: grids, folders of PNGs, strips and GIFs."""

from __future__ import annotations

import math
from pathlib import Path


def to_uint8(images):
    """[-1, 1] float NCHW -> uint8 NCHW."""
    return images.detach().float().clamp(-1, 1).add(1).mul(127.5).round().to("cpu").byte()


def grid(images, nrow: int | None = None, padding: int = 2):
    """A uint8 CHW grid of the batch, ``nrow`` images per row (default: as square as possible)."""
    from torchvision.utils import make_grid

    nrow = nrow or max(1, math.ceil(math.sqrt(len(images))))
    return make_grid(to_uint8(images), nrow=nrow, padding=padding, pad_value=255)


def _pil(chw):
    from PIL import Image

    arr = chw.permute(1, 2, 0).numpy()
    return Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr)


def save_grid(images, path: str | Path, nrow: int | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _pil(grid(images, nrow)).save(path)
    return path


def save_folder(images, folder: str | Path, start: int = 0) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, img in enumerate(to_uint8(images)):
        p = folder / f"{start + i:05d}.png"
        _pil(img).save(p)
        out.append(p)
    return out


def save_gif(frames, path: str | Path, duration_ms: int = 80) -> Path:
    """One image per frame (a batch), looping."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pics = [_pil(f) for f in to_uint8(frames)]
    pics[0].save(path, save_all=True, append_images=pics[1:], duration=duration_ms, loop=0)
    return path
