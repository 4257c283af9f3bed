"""Built-in synthetic datasets, generated in code so every command works with no download."""

from __future__ import annotations

import random

from .data import MemorySource

COLOURS = {
    "red": (220, 40, 40), "green": (40, 180, 60), "blue": (40, 80, 220),
    "yellow": (235, 210, 40), "purple": (150, 50, 190), "white": (240, 240, 240),
}
BACKGROUNDS = {"dark": (25, 25, 35), "grey": (120, 120, 125)}
SHAPES = ("circle", "square", "triangle")


def shapes(seed: int = 0, size: int = 2048, canvas: int = 64) -> MemorySource:
    """Coloured circles, squares and triangles on dark or grey backgrounds.

    Labels are the shape (3 classes); captions read "a red circle on a dark background".
    The same ``seed`` always gives the same images.
    """
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    items = []
    for _ in range(size):
        shape = rng.choice(SHAPES)
        colour = rng.choice(list(COLOURS))
        bg = rng.choice(list(BACKGROUNDS))
        img = Image.new("RGB", (canvas, canvas), BACKGROUNDS[bg])
        draw = ImageDraw.Draw(img)
        r = rng.uniform(0.22, 0.36) * canvas
        cx, cy = (rng.uniform(r + 2, canvas - r - 2) for _ in range(2))
        box = (cx - r, cy - r, cx + r, cy + r)
        if shape == "circle":
            draw.ellipse(box, fill=COLOURS[colour])
        elif shape == "square":
            draw.rectangle(box, fill=COLOURS[colour])
        else:
            draw.polygon([(cx, cy - r), (cx - r, cy + r * 0.8), (cx + r, cy + r * 0.8)], fill=COLOURS[colour])
        captions = [f"a {colour} {shape} on a {bg} background", f"{colour} {shape}", f"a {shape} coloured {colour}"]
        items.append((img, SHAPES.index(shape), captions))
    return MemorySource(items, list(SHAPES))
