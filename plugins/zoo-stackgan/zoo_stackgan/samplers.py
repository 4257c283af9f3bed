"""The ``text`` sampler: Gaussian latents (optionally truncated) plus captions, through both stages."""

from __future__ import annotations

from typing import Any

import torch

from zoo_core.errors import ZooError
from zoo_core.gan.latent import truncated_noise


def text(model: Any, n: int, *, generator: torch.Generator, steps: int | None = None, progress: Any = None,
         prompt: list[str] | None = None, truncation: float | None = None, stage: int | None = None,
         **kwargs: Any) -> torch.Tensor:
    """``n`` images for ``prompt`` (one caption per image; None: captions drawn from the model's bank).

    Draws z first, then (without prompts) the captions, then the Conditioning-Augmentation noise,
    all from ``generator``, so a seed fixes the images.
    """
    if steps is not None:
        raise ZooError(f"{model.zoo_name} makes an image in one forward pass; --steps does not apply")
    if kwargs:
        raise ZooError(f"the text sampler does not take {', '.join('--' + k for k in kwargs)}")
    z = truncated_noise((n, *model.latent_shape), truncation, generator)
    device = next(model.parameters()).device
    return model.synthesize(z.to(device), generator=generator, prompt=prompt, stage=stage)
