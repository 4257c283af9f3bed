"""The PGGAN Generator: the growing generator plus its growth state, ready to ``generate``.

The current level and fade-in alpha are *buffers*, not Python attributes: the engine's EMA copy
(a deep copy whose buffers are copied from the live model at every update) and every saved
``model.safetensors`` carry them, so a checkpoint, the EMA sampler and a model loaded with
``from_pretrained`` all draw images at the resolution training had reached.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from zoo_core.gan.acgan import ACGANGenerator, one_hot_after
from zoo_core.gan.generator import GANGenerator
from zoo_core.modeling import unexpected_arguments

from .config import PGGANConfig
from .networks import GrowingGenerator


class PGGAN(ACGANGenerator, GANGenerator, nn.Module):
    """Progressively grown GAN generator; ``generate(n, seed=..., truncation=..., label=...)`` returns images
    in [-1, 1] at the current resolution (``generate`` and ``interpolate`` come from the GAN toolkit).

    With ``class_cond`` G's input is ``[z, one_hot(label)]``, PixelNorm-ed as a whole (pytorch_GAN_zoo's
    AC-GAN layout), so ``label=`` (``zoo sample --class``) picks the class."""

    zoo_name = "pggan"

    def __init__(self, config: PGGANConfig):
        super().__init__()
        self.config = config
        self.num_classes = self.class_count()
        self.net = GrowingGenerator(config.z_dim + self.num_classes, config.in_channels, config.channels(), config.pixel_norm,
                                    config.dense_norm)
        start_level = int(math.log2(config.start_res)) - 2
        self.register_buffer("level", torch.tensor(start_level, dtype=torch.long))
        self.register_buffer("alpha", torch.tensor(1.0))

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return (self.config.z_dim,)

    @property
    def resolution(self) -> int:
        """The side of the images the generator makes now (``config.res`` once fully grown)."""
        return 4 * 2 ** int(self.level)

    def set_growth(self, level: int, alpha: float) -> None:
        """Move to network ``level`` (0 is 4x4) with fade-in weight ``alpha`` of its newest block."""
        if not 0 <= level < len(self.net.resolutions):
            raise ValueError(f"level {level} outside 0..{len(self.net.resolutions) - 1}")
        self.level.fill_(int(level))
        self.alpha.fill_(float(alpha))

    def forward(self, z: torch.Tensor, level: int | None = None, alpha: float | None = None,
                label: torch.Tensor | None = None) -> torch.Tensor:
        """Raw (unclamped) images at the resolution of ``level`` (default: the stored growth state);
        ``label`` [B] class indices ([B, attributes] with several), needed exactly when class-conditional."""
        level = int(self.level) if level is None else level
        alpha = float(self.alpha) if alpha is None else alpha
        return self.net(one_hot_after(z, label, self.layout.sizes), level, alpha)

    def synthesize(self, z: torch.Tensor, *, generator: torch.Generator | None = None,
                   label: int | str | dict | None = None, **kwargs) -> torch.Tensor:
        """Images in [-1, 1] for latents ``z`` (what the ``latent`` sampler calls); ``label`` fixes the class
        of a class-conditional model by index or name, or some of its attributes (``"gender=woman"``); the
        rest is drawn from ``generator`` after z."""
        if kwargs:
            raise unexpected_arguments(self, kwargs)
        return self(z, label=self.labels_for(len(z), label, generator)).clamp(-1, 1)

    def extra_repr(self) -> str:
        return (f"res={self.config.res}, now={self.resolution}, alpha={float(self.alpha):.3f}"
                + (f", classes={self.num_classes}" if self.num_classes else ""))
