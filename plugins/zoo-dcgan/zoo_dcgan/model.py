"""The DCGAN Generator the zoo saves, loads and samples: the generator network and its config."""

from __future__ import annotations

import torch
from torch import nn

from zoo_core.gan.acgan import ACGANGenerator
from zoo_core.gan.generator import GANGenerator
from zoo_core.modeling import unexpected_arguments

from .config import DCGANConfig
from .networks import GeneratorNet


class DCGAN(ACGANGenerator, GANGenerator, nn.Module):
    """``generate(n, seed=, truncation=, label=)`` and ``interpolate(a, b, frames)``; images in [-1, 1]."""

    zoo_name = "dcgan"

    def __init__(self, config: DCGANConfig):
        super().__init__()
        self.config = config
        self.num_classes = self.class_count()
        self.net = GeneratorNet(config.z_dim, config.res, config.channels, config.in_channels,
                                config.upsample, self.layout.sizes)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return (self.config.z_dim,)

    def forward(self, z: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        """Images for latents ``z`` [B, z_dim] (and class indices ``label`` [B], or [B, attributes], when
        conditional: the network's ``one_hot_after`` refuses a missing one)."""
        return self.net(z, label)

    def synthesize(self, z: torch.Tensor, *, generator: torch.Generator | None = None,
                   label: int | str | dict | None = None, **kwargs) -> torch.Tensor:
        """Images for latents ``z``; ``label`` fixes the class, by index or name, or some attributes
        (``"gender=woman,pose=1"``); the rest is drawn from ``generator`` after z."""
        if kwargs:
            raise unexpected_arguments(self, kwargs)
        return self(z, self.labels_for(len(z), label, generator))

    def extra_repr(self) -> str:
        c = self.config
        return f"res={c.res}, channels={c.channels}, z_dim={c.z_dim}, classes={self.num_classes}"
