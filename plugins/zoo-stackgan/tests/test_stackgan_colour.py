"""The pixel-colour check used to measure prompt following on builtin:shapes."""

from __future__ import annotations

import torch
from zoo_stackgan.shapes_check import classify, measure, measure_data

from zoo_core.builtin_data import BACKGROUNDS, COLOURS


def _picture(colour: str | None, background: str, res: int = 16) -> torch.Tensor:
    img = torch.tensor(BACKGROUNDS[background], dtype=torch.float32)[:, None, None].expand(3, res, res).clone()
    if colour:
        img[:, 4:12, 5:11] = torch.tensor(COLOURS[colour], dtype=torch.float32)[:, None, None]
    return img / 127.5 - 1


def test_classifier_reads_real_shapes_images():
    assert measure_data(res=16, n=120) >= 0.95
    assert classify(_picture("purple", "grey")) == ("purple", "grey")
    assert classify(_picture(None, "dark")) == (None, "dark")  # no object: no colour


class PaintByPrompt:
    """A fake model that paints exactly the colour its prompt names (or always red)."""

    def __init__(self, obey: bool):
        self.obey = obey

    def generate(self, n, *, seed=None, prompt=None):
        words = [p.split() for p in prompt]
        return torch.stack([_picture(w[1] if self.obey else "red", w[5]) for w in (words * n)[:n]])


def test_measure_scores_a_perfect_model_one_and_a_constant_model_chance():
    assert measure(PaintByPrompt(True), n=6)["colour_accuracy"] == 1.0
    constant = measure(PaintByPrompt(False), n=6)
    assert abs(constant["colour_accuracy"] - 1 / 6) < 1e-9 and constant["per_colour"]["red"] == 1.0
    assert constant["background_accuracy"] == 1.0
