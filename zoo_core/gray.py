"""Telling gray data from colour: gray images stored as RGB files are common (scans, digits, X-rays
re-saved by a tool), and a 3-channel model trained on them paints a colour cast into its samples, so
``zoo train`` trains a 1-channel model when every image it checks is gray."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .pixels import HIGH_BIT_MODES, as_mode

if TYPE_CHECKING:
    from .data import Source

#: PIL modes that hold no colour: a folder of only these is gray without decoding a pixel.
GRAY_MODES = frozenset({"1", "L", "LA", "La", *HIGH_BIT_MODES})
#: Largest spread between R, G and B (grey levels) still read as gray: JPEG's chroma rounding leaves ~1.
GRAY_TOLERANCE = 2


def is_gray_image(img: Any, tolerance: int = GRAY_TOLERANCE) -> bool:
    """Whether a PIL image of any mode has no colour: R, G and B (alpha composited on white, as training
    sees it) differ by at most ``tolerance`` grey levels at every pixel."""
    import numpy as np

    if img.mode in GRAY_MODES:
        return True
    a = np.asarray(as_mode(img, "RGB"), dtype=np.int16)
    return bool((a.max(axis=-1) - a.min(axis=-1)).max(initial=0) <= tolerance)


def probe_gray(source: Source, limit: int = 64) -> tuple[bool, int]:
    """Whether the data are gray, and how many images were looked at.

    Gray images stored as RGB files are common (scans, digits, X-rays re-saved by a tool); a 3-channel
    model trained on them learns three nearly equal channels and paints a colour cast into its samples.
    A folder whose headers are all gray modes is gray outright; otherwise up to ``limit`` images spread
    evenly over the data are decoded (small where the format allows) and checked pixel by pixel.
    """
    modes = getattr(source, "modes", None)
    if modes and set(modes) <= GRAY_MODES:
        return True, len(source)
    n = len(source)
    picks = sorted({i * n // min(n, limit) for i in range(min(n, limit))})
    for checked, i in enumerate(picks, 1):
        if not is_gray_image(source.peek(i)):
            return False, checked
    return bool(picks), len(picks)


def gray_note(source: Source) -> str | None:
    """The line ``zoo train`` prints when it trains a 1-channel model because the data are gray, else None.

    A 3-channel model trained on gray images stored as RGB learns three nearly equal channels and
    paints a colour cast into its samples (issue 20); a gray model cannot.
    """
    gray, checked = probe_gray(source)
    if not gray:
        return None
    return (f"gray data ({checked} image(s) checked, all without colour): training a 1-channel model; "
            "pass --in-channels 3 to keep RGB")
