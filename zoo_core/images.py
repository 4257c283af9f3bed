"""Converting [-1, 1] tensors to pictures on disk: grids, folders of PNGs, strips and GIFs.

Grids are for people: a 16-image grid of 16 px images is 74 px wide, too small to judge, so grids
are upscaled by a whole factor (nearest neighbour, no blur that would hide artefacts) to at least
``MIN_GRID_WIDTH`` pixels. Folders of single images keep the model's resolution (they feed metrics).
Every PNG carries what made it (seed, sampler, steps, prompt or class, model) in PNG text chunks,
readable with ``PIL.Image.open(p).text`` or ``exiftool``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

MIN_GRID_WIDTH = 256


def to_uint8(images):
    """[-1, 1] float NCHW -> uint8 NCHW."""
    return images.detach().float().clamp(-1, 1).add(1).mul(127.5).round().to("cpu").byte()


def grid(images, nrow: int | None = None, padding: int = 2):
    """A uint8 CHW grid of the batch, ``nrow`` images per row (default: as square as possible)."""
    from torchvision.utils import make_grid

    nrow = nrow or max(1, math.ceil(math.sqrt(len(images))))
    out = make_grid(to_uint8(images), nrow=nrow, padding=padding, pad_value=255)
    return out[:1] if images.shape[1] == 1 else out  # make_grid repeats gray to RGB: keep a gray model gray


def _pil(chw):
    from PIL import Image

    arr = chw.permute(1, 2, 0).numpy()
    return Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr)


def png_info(meta: dict[str, Any] | None):
    """A ``PngInfo`` holding ``meta`` as text chunks (None values dropped; lists and dicts as JSON)."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Software", "zoo")
    for key, value in (meta or {}).items():
        if value is None:
            continue
        text = json.dumps(value) if isinstance(value, (list, tuple, dict)) else str(value)
        info.add_text(str(key), text)
    return info


def read_meta(path: str | Path) -> dict[str, str]:
    """The text chunks of a PNG the zoo wrote (empty for other files)."""
    from PIL import Image

    with Image.open(path) as im:
        return dict(getattr(im, "text", {}) or {})


def _write(pic, path: Path, meta: dict[str, Any] | None) -> None:
    if path.suffix.lower() == ".png":
        pic.save(path, pnginfo=png_info(meta))
    else:  # JPEG/WebP have no PNG text chunks
        pic.save(path)


def upscale(pic, min_width: int = MIN_GRID_WIDTH):
    """``pic`` enlarged by the smallest whole factor that makes it at least ``min_width`` wide (nearest)."""
    from PIL import Image

    factor = max(1, math.ceil(min_width / max(pic.width, 1)))
    return pic if factor == 1 else pic.resize((pic.width * factor, pic.height * factor), Image.NEAREST)


def save_grid(images, path: str | Path, nrow: int | None = None, meta: dict[str, Any] | None = None,
              min_width: int = MIN_GRID_WIDTH) -> Path:
    """One grid picture, upscaled to ``min_width`` (0: native size), ``meta`` in its text chunks."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(upscale(_pil(grid(images, nrow)), min_width), path, meta)
    return path


def save_folder(images, folder: str | Path, start: int = 0, meta: dict[str, Any] | None = None) -> list[Path]:
    """One PNG per image at the model's resolution; each carries ``meta`` plus its ``index``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, img in enumerate(to_uint8(images)):
        p = folder / f"{start + i:05d}.png"
        _write(_pil(img), p, {**(meta or {}), "index": start + i})
        out.append(p)
    return out


def save_gif(frames, path: str | Path, duration_ms: int = 80) -> Path:
    """One image per frame (a batch), looping."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pics = [_pil(f) for f in to_uint8(frames)]
    pics[0].save(path, save_all=True, append_images=pics[1:], duration=duration_ms, loop=0)
    return path
