"""``GANGenerator``: ``generate`` and ``interpolate`` for any latent-variable generator.

A GAN model class mixes it in before ``nn.Module`` and provides

* ``latent_shape``: the shape of one latent (``(z_dim,)``);
* ``synthesize(z, *, generator=None, **condition) -> images``: images in [-1, 1] for latents ``z``
  (on the model's device); conditions it understands (``label=``, ``prompt=``) are keyword
  arguments, missing ones drawn from ``generator``, unknown ones a ZooError;
* optionally ``condition_for_seed(seed, truncation) -> dict``: the condition ``generate(1,
  seed=seed)`` would draw, so an interpolation keeps seed A's class while its latent moves.

``generate`` draws latents through the registered sampler (``latent`` by default: Gaussian or
truncated latents, see :func:`~zoo_core.gan.latent.latent_sampler`) with
:func:`zoo_core.generation.generate`, so the same seed gives the same images in any batch size
(for generators without batch statistics at sampling time, which holds in eval mode).
"""

from __future__ import annotations

from typing import Any

import torch

from zoo_core.errors import ZooError
from zoo_core.generation import generate
from zoo_core.modeling import ZooModelMixin
from zoo_core.rng import seeded

from .latent import seed_latent, slerp


class GANGenerator(ZooModelMixin):
    """Mixin: sampling and interpolation on top of ``latent_shape`` and ``synthesize``."""

    latent_shape: tuple[int, ...]

    def synthesize(self, z: torch.Tensor, *, generator: torch.Generator | None = None,
                   **condition: Any) -> torch.Tensor:
        raise NotImplementedError

    def condition_for_seed(self, seed: int, truncation: float | None = None) -> dict:
        return {}

    def _device(self) -> torch.device:
        return next(self.parameters()).device

    @torch.no_grad()
    def generate(self, n: int, *, seed: int | None = None, sampler: str | None = None, steps: int | None = None,
                 batch_size: int | None = None, progress: bool = False, truncation: float | None = None,
                 **condition: Any) -> torch.Tensor:
        """``n`` images in [-1, 1]; ``truncation`` resamples latent entries beyond that many std devs."""
        return generate(self, n, seed=seed, sampler=sampler, steps=steps, batch_size=batch_size, progress=progress,
                        truncation=truncation, **condition)

    @torch.no_grad()
    def interpolate(self, seed_a: int, seed_b: int, frames: int = 16, *, truncation: float | None = None,
                    batch_size: int | None = None, **condition: Any) -> torch.Tensor:
        """``frames`` images along the great circle from seed A's latent to seed B's.

        The end frames equal ``generate(1, seed=A)`` and ``generate(1, seed=B)`` (for a conditional
        model, the condition is seed A's unless given).
        """
        if frames < 2:
            raise ZooError(f"--frames must be at least 2, got {frames}")
        shape = tuple(self.latent_shape)
        za, zb = seed_latent(seed_a, shape, truncation)[0], seed_latent(seed_b, shape, truncation)[0]
        t = torch.linspace(0, 1, frames, dtype=torch.float64).reshape(frames, *([1] * len(shape)))
        z = slerp(za, zb, t).to(self._device())
        condition = {**self.condition_for_seed(seed_a, truncation), **condition}
        bs = batch_size or min(frames, 64)
        out = [self.synthesize(z[i:i + bs], generator=seeded(seed_a), **condition)
               .float().cpu() for i in range(0, frames, bs)]
        return torch.cat(out)
