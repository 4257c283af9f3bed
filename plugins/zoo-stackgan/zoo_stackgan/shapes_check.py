"""Does a StackGAN trained on ``builtin:shapes`` draw what the prompt says? A pixel-colour check.

For each of the six colours of the data set the model draws images for prompts such as
"a red circle on a dark background"; a simple classifier reads each image's dominant foreground
colour (pixels far from both background colours, each assigned to the nearest object colour,
majority vote) and its background (dark or grey). An unconditional model scores the chance
levels 1/6 (colour) and 1/2 (background).

    python -m zoo_stackgan.shapes_check RUN_OR_MODEL [--n 48] [--seed 0]
"""

from __future__ import annotations

import argparse
import json

import torch

from zoo_core.builtin_data import BACKGROUNDS, COLOURS, SHAPES

FOREGROUND = 60.0  # RGB distance from both backgrounds above which a pixel belongs to the object


def classify(image: torch.Tensor) -> tuple[str | None, str]:
    """(dominant foreground colour or None, background) of one CHW image in [-1, 1]."""
    rgb = image.float().clamp(-1, 1).add(1).mul(127.5).reshape(3, -1).T  # [pixels, 3] in 0..255
    bgs = torch.tensor(list(BACKGROUNDS.values()), dtype=torch.float32)
    cols = torch.tensor(list(COLOURS.values()), dtype=torch.float32)
    d_bg = torch.cdist(rgb, bgs)
    fg = d_bg.min(dim=1).values > FOREGROUND
    background = list(BACKGROUNDS)[int(d_bg[~fg].argmin(dim=1).bincount(minlength=2).argmax())] if (~fg).any() \
        else list(BACKGROUNDS)[int(d_bg.argmin(dim=1).bincount(minlength=2).argmax())]
    if fg.sum() < max(2, 0.03 * len(rgb)):
        return None, background
    votes = torch.cdist(rgb[fg], cols).argmin(dim=1).bincount(minlength=len(cols))
    return list(COLOURS)[int(votes.argmax())], background


def prompts_for(colour: str) -> list[str]:
    return [f"a {colour} {shape} on a {bg} background" for shape in SHAPES for bg in BACKGROUNDS]


def measure(model, n: int = 48, seed: int = 0) -> dict:
    """Per-colour fraction of ``n`` samples whose dominant colour (and background) match the prompt."""
    per_colour, bg_hits, total = {}, 0, 0
    for k, colour in enumerate(COLOURS):
        prompts = prompts_for(colour)
        images = model.generate(n, seed=seed + k, prompt=prompts)
        hits = 0
        for i, img in enumerate(images):
            found, background = classify(img)
            hits += found == colour
            bg_hits += background in prompts[i % len(prompts)]
            total += 1
        per_colour[colour] = hits / n
    return {"colour_accuracy": sum(per_colour.values()) / len(per_colour), "colour_chance": 1 / len(COLOURS),
            "background_accuracy": bg_hits / total, "background_chance": 1 / len(BACKGROUNDS),
            "per_colour": per_colour, "n_per_colour": n}


def measure_data(res: int = 16, n: int = 300, seed: int = 0) -> float:
    """The classifier's colour accuracy on real ``builtin:shapes`` images at ``res`` (its own sanity check)."""
    from zoo_core.builtin_data import shapes
    from zoo_core.data import DataConfig, ImageDataset

    source = shapes(seed=seed, size=n)
    data = ImageDataset(source, res, 3, DataConfig(data="builtin:shapes"))
    hits = 0
    for i in range(n):
        caption = source.captions[i][0]
        hits += classify(data[(i, i)]["image"])[0] == caption.split()[1]
    return hits / n


def main(argv: list[str] | None = None) -> None:
    from zoo_core.hub import from_pretrained

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", help="run folder, saved model or Hub repo of a stackgan trained on builtin:shapes")
    parser.add_argument("--n", type=int, default=48, help="images per colour")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    model = from_pretrained(args.src, device="cpu")
    result = measure(model, args.n, args.seed)
    result["classifier_accuracy_on_data"] = measure_data(model.config.res)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
