"""Learning-rate schedules as pure functions of the step (so resuming needs no scheduler state)."""

from __future__ import annotations

import math

from .train_config import TrainConfig


def lr_factor(cfg: TrainConfig, step: int) -> float:
    """The multiplier of the base learning rate at optimizer step ``step`` (0-based)."""
    f = 1.0
    if cfg.warmup and step < cfg.warmup:
        f = (step + 1) / cfg.warmup
    if cfg.lr_schedule == "step":
        f *= cfg.lr_gamma ** (step // cfg.lr_step_every)
    elif cfg.lr_schedule == "cosine":
        span = max(1, cfg.steps - cfg.warmup)
        t = min(1.0, max(0, step - cfg.warmup) / span)
        f *= 0.5 * (1 + math.cos(math.pi * t))
    return f
