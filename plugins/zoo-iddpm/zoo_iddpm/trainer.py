"""iDDPM training: zoo-ddpm's trainer (the hybrid loss is ``GaussianDiffusion.training_losses``) with an
importance-sampled timestep sampler whose loss history is part of the checkpoint.

The VLB term sees the predicted mean through a stop-gradient, so it trains only the variance
(v) and L_simple alone drives the mean, as in the paper. Per-example VLB losses are scaled by T so
that ``T * L_t`` at a uniformly drawn t is an unbiased estimate of the full sum (in bits/dim); with
``lambda = 0.001`` and T = 1000 the two terms then weigh as in the paper's reference code.
"""

from __future__ import annotations

import torch
from zoo_ddpm.trainer import DDPMTrainer

from .timesteps import make_timestep_sampler


def _all_gather(x: torch.Tensor) -> torch.Tensor:
    """``x`` from every rank concatenated (itself when not distributed): one shared loss history."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts)


class IDDPMTrainer(DDPMTrainer):
    """DDPMTrainer with a (possibly loss-aware) timestep sampler in its state."""

    def __init__(self, model, config, data_info, train_cfg, device):
        super().__init__(model, config, data_info, train_cfg, device)
        self.timestep_sampler = make_timestep_sampler(config.timestep_sampler, model.diffusion.T)
        # previews use the paper's fast sampler: ancestral, respaced to 50 steps
        self.preview_kwargs = {"sampler": "ancestral", "steps": min(50, model.diffusion.T)}

    def sample_timesteps(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Timesteps and importance weights 1 / (T p_t) (all ones for the uniform sampler)."""
        return self.timestep_sampler.sample(n, self.device)

    def observe(self, t: torch.Tensor, losses: torch.Tensor) -> None:
        self.timestep_sampler.update(_all_gather(t), _all_gather(losses))

    def state_dict(self) -> dict:
        return {"timestep_sampler": self.timestep_sampler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.timestep_sampler.load_state_dict(state.get("timestep_sampler", {}))
