"""Any image file's pixels as 8-bit ``L`` or ``RGB``, scaled rather than clipped.

PIL's ``convert()`` is right for 8-bit modes but clips high-bit-depth ones: a 16-bit PNG (mode ``I;16``
or ``I``) becomes almost pure white, and a float TIFF (``F``) saturates. Transparency is composited on
white (a transparent background reads as paper, not as black), CMYK and palette images go through their
colour conversion, and EXIF orientation is applied so a phone photo is not trained on its side.
"""

from __future__ import annotations

from typing import Any

#: Modes whose samples are wider than 8 bits and must be rescaled before ``convert``.
HIGH_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")


def _to_8bit(img: Any) -> Any:
    """A high-bit-depth single-channel image as ``L``: 16-bit divided by 257, float [0, 1] times 255."""
    import numpy as np
    from PIL import Image

    a = np.asarray(img, dtype=np.float64)
    if img.mode == "F":
        finite = a[np.isfinite(a)]
        peak = float(finite.max()) if finite.size else 0.0
        a = np.nan_to_num(a, nan=0.0, posinf=peak, neginf=0.0)
        scale = 255.0 if peak <= 1.0 else (255.0 / 65535.0 if peak > 255.0 else 1.0)
    else:  # integer modes: 16-bit data unless every value already fits in 8 bits
        scale = 255.0 / 65535.0 if a.size and a.max() > 255 else 1.0
    return Image.fromarray(np.clip(np.rint(a * scale), 0, 255).astype(np.uint8), mode="L")


def as_mode(img: Any, mode: str) -> Any:
    """``img`` (any PIL mode) as ``mode`` ("L" or "RGB"), upright, alpha composited on white."""
    from PIL import Image, ImageOps

    img = ImageOps.exif_transpose(img) or img
    if img.mode in HIGH_BIT_MODES:
        img = _to_8bit(img)
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, rgba).convert("RGB")
    return img if img.mode == mode else img.convert(mode)


def mode_summary(modes: dict[str, int]) -> str | None:
    """One line naming the mix of image modes in a dataset, or None when they are all alike."""
    if len(modes) <= 1:
        return None
    parts = ", ".join(f"{n} {m}" for m, n in sorted(modes.items(), key=lambda kv: -kv[1]))
    return f"images come in {len(modes)} modes ({parts}); all are converted to the model's channels"
