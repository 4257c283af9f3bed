"""Loss curves drawn with PIL alone (no plotting library to install): one small panel per quantity,
the raw trace faint and an exponentially smoothed one on top, several runs overlaid in colours.

Panels are grouped by what a person compares: losses, gradient norms, learning rate, D(real) and
D(fake), throughput and each eval metric. Health events (a skipped step, a rollback, D collapse...)
are thin amber vertical lines in every panel, so a spike can be matched with what the engine saw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

Series = dict[str, list[tuple[int, float]]]  # name -> [(step, value)]

COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14), (148, 103, 189), (23, 190, 207)]
PANEL_W, PANEL_H, MARGIN = 360, 220, 44
EVENT_COLOUR = (230, 160, 20)  # health-event markers


def smooth(values: list[float], weight: float = 0.8) -> list[float]:
    """TensorBoard-style exponential moving average with bias correction (first value kept)."""
    out, acc, norm = [], 0.0, 0.0
    for v in values:
        acc, norm = weight * acc + (1 - weight) * v, weight * norm + (1 - weight)
        out.append(acc / norm)
    return out


def panels(series: Series) -> list[tuple[str, list[str]]]:
    """``[(title, [series names])]`` in a fixed, readable order."""
    groups: dict[str, list[str]] = {}
    for name in sorted(series):
        if name.startswith("loss") or name in ("kl",):
            key = "losses"
        elif name.startswith("grad_norm"):
            key = "gradient norms"
        elif name in ("d_real", "d_fake"):
            key = "D(real) / D(fake)"
        elif name in ("div_real", "div_fake"):
            key = "sample diversity (real vs fake)"
        elif name == "lr":
            key = "learning rate"
        elif name == "img_per_s":
            key = "images / s"
        elif name.startswith("eval/"):
            key = name
        else:
            key = name
        groups.setdefault(key, []).append(name)
    order = ["losses", "gradient norms", "D(real) / D(fake)", "sample diversity (real vs fake)", "learning rate",
             "images / s"]
    return sorted(groups.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0]))


def _fade(c: tuple[int, int, int]) -> tuple[int, int, int]:
    return tuple(int(255 - (255 - x) * 0.3) for x in c)


def _draw_panel(draw, box, title: str, lines: list[tuple[str, tuple[int, int, int], list[tuple[int, float]]]],
                events: Sequence[int] = ()):
    x0, y0 = box
    left, top, w, h = x0 + MARGIN, y0 + 20, PANEL_W - MARGIN - 8, PANEL_H - 40
    draw.text((x0 + 6, y0 + 4), title, fill=(0, 0, 0))
    draw.rectangle([left, top, left + w, top + h], outline=(160, 160, 160))
    pts = [(s, v) for _, _, data in lines for s, v in data if math.isfinite(v)]
    if not pts:
        draw.text((left + 8, top + h // 2), "no finite values", fill=(120, 120, 120))
        return
    smin, smax = min(p[0] for p in pts), max(p[0] for p in pts)
    vmin, vmax = min(p[1] for p in pts), max(p[1] for p in pts)
    if vmax == vmin:
        vmin, vmax = vmin - 0.5 * (abs(vmin) or 1), vmax + 0.5 * (abs(vmax) or 1)
    if smax == smin:
        smax = smin + 1

    def xy(s, v):
        return left + (s - smin) / (smax - smin) * w, top + h - (v - vmin) / (vmax - vmin) * h

    draw.text((x0 + 2, top - 4), f"{vmax:.3g}", fill=(90, 90, 90))
    draw.text((x0 + 2, top + h - 8), f"{vmin:.3g}", fill=(90, 90, 90))
    draw.text((left, top + h + 3), f"{smin}", fill=(90, 90, 90))
    draw.text((left + w - 6 * len(str(smax)), top + h + 3), f"{smax}", fill=(90, 90, 90))
    for step in sorted(set(events)):  # under the curves
        if smin <= step <= smax:
            x = xy(step, vmin)[0]
            draw.line([(x, top + 1), (x, top + h - 1)], fill=EVENT_COLOUR, width=1)
    for i, (label, colour, data) in enumerate(lines):
        data = [(s, v) for s, v in data if math.isfinite(v)]
        if not data:
            continue
        raw = [xy(s, v) for s, v in data]
        sm = [xy(s, v) for (s, _), v in zip(data, smooth([v for _, v in data]))]
        for pts_, fill, width in ((raw, _fade(colour), 1), (sm, colour, 2)):
            if len(pts_) == 1:
                px, py = pts_[0]
                draw.ellipse([px - 2, py - 2, px + 2, py + 2], fill=fill)
            else:
                draw.line(pts_, fill=fill, width=width)
        draw.text((left + 4, top + 4 + 11 * i), label[:48], fill=colour)


def plot_runs(runs: list[tuple[str, Series]], path: str | Path, columns: int = 3,
              events: list[int] | None = None) -> Path:
    """Draw every panel of every run (overlaid) into one PNG at ``path``; ``events`` are the steps of
    health events, marked in every panel."""
    from PIL import Image, ImageDraw

    merged: Series = {}
    for _, series in runs:
        for k in series:
            merged.setdefault(k, [])
    groups = panels(merged) or [("no metrics yet", [])]
    rows = math.ceil(len(groups) / columns)
    img = Image.new("RGB", (PANEL_W * min(columns, len(groups)), PANEL_H * rows), "white")
    draw = ImageDraw.Draw(img)
    for i, (title, names) in enumerate(groups):
        lines = []
        for r, (label, series) in enumerate(runs):
            for j, name in enumerate(names):
                colour = COLOURS[(r * len(names) + j) % len(COLOURS)] if len(runs) > 1 else COLOURS[j % len(COLOURS)]
                tag = name if len(runs) == 1 else f"{label}: {name}"
                lines.append((tag, colour, series.get(name, [])))
        _draw_panel(draw, ((i % columns) * PANEL_W, (i // columns) * PANEL_H), title, lines, events or [])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path
