"""A small VAE written as a new family would be: networks, config, loss and one registration.

Nothing in the core knows about it; test_new_family.py registers it, trains it through
``zoo_core.train``, and samples it from Python and from ``zoo sample`` with its own ``-o`` option.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from zoo_core.config import opt
from zoo_core.errors import ZooError
from zoo_core.generation import generate
from zoo_core.protocols import Phase
from zoo_core.registry import ModelSpec

SPEC = ModelSpec("vae", "a tiny VAE (tests)", "vae", "vae_zoo:VAEConfig", "vae_zoo:VAE", "vae_zoo:VAETrainer",
                 samplers=("latent",), distribution="zoo-vae", version="0.0")


@dataclass
class VAEConfig:
    res: int = opt(8, "image size", min=4)
    in_channels: int = opt(3, "image channels", min=1, max=4)
    z_dim: int = opt(4, "latent size", min=1)
    beta: float = opt(1.0, "weight of the KL term", min=0.0)

    TRAIN_DEFAULTS: ClassVar[dict] = {"lr": 1e-2, "batch_size": 8, "log_every": 1, "sample_every": 1000}


class VAE(nn.Module):
    zoo_name = "vae"

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        pixels = config.in_channels * config.res * config.res
        self.encoder = nn.Linear(pixels, 2 * config.z_dim)
        self.decoder = nn.Linear(config.z_dim, pixels)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return (self.config.z_dim,)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        c = self.config
        return torch.tanh(self.decoder(z)).view(len(z), c.in_channels, c.res, c.res)

    def synthesize(self, z: torch.Tensor, *, generator=None, temperature: float = 1.0) -> torch.Tensor:
        return self.decode(z * temperature)

    def generate(self, n, *, seed=None, sampler=None, steps=None, batch_size=None, progress=False,
                 truncation=None, temperature: float = 1.0):
        if not temperature > 0:
            raise ZooError(f"-o temperature must be > 0, got {temperature}")
        return generate(self, n, seed=seed, sampler=sampler, steps=steps, batch_size=batch_size, progress=progress,
                        truncation=truncation, temperature=temperature)


class VAETrainer:
    def __init__(self, model, config, data_info, train_cfg, device):
        self.model, self.config = model, config
        self.modules = {"vae": model}
        self.optimizers = {"vae": torch.optim.Adam(model.parameters(), lr=train_cfg.lr)}

    def loss(self, batch):
        x = batch["image"]
        mu, logvar = self.model.encoder(x.flatten(1)).chunk(2, dim=1)
        z = mu + (0.5 * logvar).exp() * torch.randn_like(mu)
        recon = (self.model.decode(z) - x).pow(2).flatten(1).sum(1).mean()
        kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)).mean()
        loss = recon + self.config.beta * kl
        return loss, {"loss": float(loss.detach()), "recon": float(recon.detach()), "kl": float(kl.detach())}

    def phases(self, step):
        return [Phase("vae", self.loss)]

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass

    def health(self, logs):
        return []
