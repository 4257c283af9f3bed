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

from zoo_core.errors import ZooError
from zoo_core.gan.generator import GANGenerator

from .config import PGGANConfig
from .networks import GrowingGenerator


class PGGAN(GANGenerator, nn.Module):
    """Progressively grown GAN generator; ``generate(n, seed=..., truncation=...)`` returns images in [-1, 1]
    at the current resolution (``generate`` and ``interpolate`` come from the GAN toolkit)."""

    zoo_name = "pggan"

    def __init__(self, config: PGGANConfig):
        super().__init__()
        self.config = config
        self.net = GrowingGenerator(config.z_dim, config.in_channels, config.channels(), config.pixel_norm,
                                    config.dense_norm)
        start_level = int(math.log2(config.start_res)) - 2
        self.register_buffer("level", torch.tensor(start_level, dtype=torch.long))
        self.register_buffer("alpha", torch.tensor(1.0))

    @classmethod
    def adapt_config(cls, config: PGGANConfig, data_info) -> PGGANConfig:
        """Unconditional: the data's labels and captions are not used."""
        return config

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

    def forward(self, z: torch.Tensor, level: int | None = None, alpha: float | None = None) -> torch.Tensor:
        """Raw (unclamped) images at the resolution of ``level`` (default: the stored growth state)."""
        level = int(self.level) if level is None else level
        alpha = float(self.alpha) if alpha is None else alpha
        return self.net(z, level, alpha)

    def synthesize(self, z: torch.Tensor, *, generator: torch.Generator | None = None, **kwargs) -> torch.Tensor:
        """Images in [-1, 1] for latents ``z`` (what the ``latent`` sampler calls)."""
        if kwargs:
            raise ZooError(f"pggan is unconditional; it does not take {', '.join('--' + k for k in kwargs)}")
        return self(z).clamp(-1, 1)

    def extra_repr(self) -> str:
        return f"res={self.config.res}, now={self.resolution}, alpha={float(self.alpha):.3f}"
