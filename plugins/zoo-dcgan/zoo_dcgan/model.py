"""The DCGAN Generator the zoo saves, loads and samples: the generator network and its config."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from zoo_core.errors import ZooError
from zoo_core.gan.generator import GANGenerator
from zoo_core.gan.latent import truncated_noise
from zoo_core.generation import class_labels
from zoo_core.modeling import unexpected_arguments

from .config import DCGANConfig
from .networks import GeneratorNet


class DCGAN(GANGenerator, nn.Module):
    """``generate(n, seed=, truncation=, label=)`` and ``interpolate(a, b, frames)``; images in [-1, 1]."""

    zoo_name = "dcgan"

    def __init__(self, config: DCGANConfig):
        super().__init__()
        if config.class_cond and not config.num_classes:
            raise ZooError("dcgan --class-cond needs the number of classes: train on labelled data "
                           "(class folders, builtin:shapes) or set --num-classes")
        self.config = config
        self.num_classes = config.num_classes if config.class_cond else 0
        self.net = GeneratorNet(config.z_dim, config.res, config.channels, config.in_channels,
                                config.upsample, self.num_classes)

    @classmethod
    def adapt_config(cls, config: DCGANConfig, data_info) -> DCGANConfig:
        """With --class-cond, read the class count from the data (an error if it has no labels)."""
        if not config.class_cond:
            return config
        if not data_info.num_classes:
            raise ZooError("dcgan --class-cond needs labelled data (class sub-folders or builtin:shapes); "
                           "this data has no labels: drop --class-cond")
        return dataclasses.replace(config, num_classes=data_info.num_classes)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return (self.config.z_dim,)

    def forward(self, z: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        """Images for latents ``z`` [B, z_dim] (and class indices ``label`` [B] when conditional)."""
        if self.num_classes and label is None:
            raise ValueError("a class-conditional DCGAN needs a label per latent")
        return self.net(z, label)

    def _labels(self, n: int, label, generator) -> torch.Tensor | None:
        return class_labels(n, label, self.num_classes, generator, self._device(), "this dcgan")

    def synthesize(self, z: torch.Tensor, *, generator: torch.Generator | None = None, label: int | None = None,
                   **kwargs) -> torch.Tensor:
        """Images for latents ``z``; ``label`` fixes the class (else drawn from ``generator`` after z)."""
        if kwargs:
            raise unexpected_arguments(self, kwargs)
        return self(z, self._labels(len(z), label, generator))

    def condition_for_seed(self, seed: int, truncation: float | None = None) -> dict:
        """The class ``generate(1, seed=seed)`` draws, so interpolations keep seed A's class."""
        if not self.num_classes:
            return {}
        g = torch.Generator().manual_seed(int(seed))
        truncated_noise((1, *self.latent_shape), truncation, g)  # advance past z, as the sampler does
        return {"label": int(torch.randint(0, self.num_classes, (1,), generator=g))}

    def extra_repr(self) -> str:
        c = self.config
        return f"res={c.res}, channels={c.channels}, z_dim={c.z_dim}, classes={self.num_classes}"
