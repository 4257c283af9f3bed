"""The benchmark reports' line chart (FID vs sampling steps, FID vs training steps), drawn with PIL
alone: no plotting library is a dependency, and the training curves (zoo_core.plot) draw the same way."""

from __future__ import annotations

import math
from pathlib import Path


def line_plot(path: Path, title: str, xlabel: str, series: dict[str, list[tuple[int, float]]],
              floor: float | None = None, colours: dict[str, int] | None = None, thin: set[str] = frozenset()) -> Path:
    """A small log-x line chart drawn with PIL (no plotting library is installed): one marked line per
    series, the real-vs-real floor dashed; ``colours`` picks a series' palette index (default its position),
    ``thin`` series are drawn with thin lines (e.g. the reference side, coloured like zoo's same sampler)."""
    from PIL import Image, ImageDraw

    from zoo_core.plot import COLOURS

    w, h, left, top, right, bottom = 640, 400, 64, 36, 200, 44
    img = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(img)
    pts = [p for s in series.values() for p in s if math.isfinite(p[1])]
    if not pts:
        return img.save(path) or path
    xs, ys = [math.log10(x) for x, _ in pts], [y for _, y in pts] + ([floor] if floor is not None else [])
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = 0.0, max(ys) * 1.08 or 1.0
    pw, ph = w - left - right, h - top - bottom

    def xy(x: float, y: float) -> tuple[float, float]:
        return left + (math.log10(x) - x0) / (x1 - x0) * pw, top + ph - (y - y0) / (y1 - y0) * ph

    draw.text((left, 10), title, fill="black")
    draw.rectangle([left, top, left + pw, top + ph], outline=(150, 150, 150))
    for x in sorted({x for x, _ in pts}):
        px, _ = xy(x, y0)
        draw.line([px, top + ph, px, top + ph + 4], fill="black")
        draw.text((px - 3 * len(str(x)), top + ph + 6), f"{x:,}", fill="black")
    for k in range(5):
        y = y0 + (y1 - y0) * k / 4
        _, py = xy(10 ** x0, y)
        draw.line([left - 4, py, left, py], fill="black")
        draw.text((8, py - 6), f"{y:.0f}", fill="black")
    draw.text((left + pw // 2 - 40, h - 18), xlabel + " (log scale)", fill="black")
    if floor is not None:
        _, py = xy(10 ** x0, floor)
        for px in range(left, left + pw, 8):
            draw.line([px, py, px + 4, py], fill=(120, 120, 120))
    for i, (name, data) in enumerate(series.items()):
        colour = COLOURS[(colours or {}).get(name, i) % len(COLOURS)]
        p = [xy(x, y) for x, y in sorted(data) if math.isfinite(y)]
        if len(p) > 1:
            draw.line(p, fill=colour, width=1 if name in thin else 3)
        for px, py in p:
            draw.ellipse([px - 3, py - 3, px + 3, py + 3], fill=colour)
        draw.text((left + pw + 10, top + 14 * i), name, fill=colour)
    if floor is not None:
        draw.text((left + pw + 10, top + 14 * len(series)), "real vs real", fill=(120, 120, 120))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path
