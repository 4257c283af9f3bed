"""A tiny deterministic model family used to test the core without any plugin.

The generator is a per-pixel affine map of Gaussian noise; the trainer fits it to the data by
matching x = a * z + b to images with a loss that has no batch-dependent layers, which makes
gradient-accumulation and resume equalities exact up to float rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from zoo_core.config import opt
from zoo_core.generation import batched, randn
from zoo_core.protocols import Phase


@dataclass
class ToyConfig:
    res: int = opt(8, "resolution", min=4)
    in_channels: int = opt(3, "channels", min=1)
    width: int = opt(4, "hidden width", min=1)
    fail_at: int = opt(-1, "return a NaN loss at this step (tests)")
    noise: float = opt(0.1, "input noise (0: a deterministic loss)", min=0.0)
    sgd: bool = opt(False, "plain SGD instead of Adam (update proportional to the gradient)")

    TRAIN_DEFAULTS: ClassVar[dict] = {"lr": 1e-2, "batch_size": 8, "log_every": 1, "sample_every": 1000}
    PRESETS: ClassVar[dict] = {"wide": {"width": 16, "lr": 5e-3}}

    def __post_init__(self):
        if self.res % 2:
            raise ValueError(f"--res must be even, got {self.res}")


class ToyModel(nn.Module):
    zoo_name = "toy"

    def __init__(self, config: ToyConfig):
        super().__init__()
        self.config = config
        self.net = nn.Sequential(nn.Conv2d(config.in_channels, config.width, 3, padding=1), nn.Tanh(),
                                 nn.Conv2d(config.width, config.in_channels, 3, padding=1))

    def forward(self, x):
        return self.net(x)

    def generate(self, n, *, seed=None, sampler=None, steps=None, batch_size=None, progress=False, **kw):
        shape = (self.config.in_channels, self.config.res, self.config.res)
        dev = next(self.parameters()).device
        return batched(n, batch_size, seed, lambda k, g: torch.tanh(self.net(randn((k, *shape), g, dev))))


class ToyTrainer:
    def __init__(self, model, config, data_info, train_cfg, device):
        self.model, self.config = model, config
        self.modules = {"net": model}
        opt = torch.optim.SGD if config.sgd else torch.optim.Adam
        self.optimizers = {"net": opt(model.parameters(), lr=train_cfg.lr)}
        self.calls = 0

    def loss(self, batch):
        x = batch["image"]
        noise = torch.randn_like(x) if self.config.noise else 0.0  # global RNG: resume must restore it
        loss = (self.model(x + self.config.noise * noise) - x).pow(2).mean()
        self.calls += 1
        if self.calls - 1 == self.config.fail_at and not getattr(self, "failed", False):
            self.failed = True  # once per process: a rollback with a lower lr gets past it
            loss = loss * float("nan")
        return loss, {"loss": loss.item()}

    def phases(self, step):
        return [Phase("net", self.loss)]

    def state_dict(self):
        return {"calls": self.calls}

    def load_state_dict(self, state):
        self.calls = state.get("calls", 0)

    def health(self, logs):
        return ["toy loss is large"] if logs.get("loss", 0) > 1e6 else []
