"""iDDPM training: the hybrid objective L_simple + lambda L_vlb, and importance-sampled timesteps.

The VLB term sees the predicted mean through a stop-gradient, so it trains only the variance
(v) and L_simple alone drives the mean, as in the paper. Per-example losses are scaled by T so that
``T * L_t`` at a uniformly drawn t is an unbiased estimate of the full sum L_vlb (in bits/dim); with
``lambda = 0.001`` and T = 1000 the two terms then weigh as in the paper's reference code.
"""

from __future__ import annotations

import torch
from zoo_ddpm.trainer import DDPMTrainer

from .timesteps import make_timestep_sampler
from .vlb import vlb_terms


def _all_gather(x: torch.Tensor) -> torch.Tensor:
    """``x`` from every rank concatenated (itself when not distributed): one shared loss history."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts)


class IDDPMTrainer(DDPMTrainer):
    """DDPMTrainer with the iDDPM loss and a (possibly loss-aware) timestep sampler in its state."""

    def __init__(self, model, config, data_info, train_cfg, device):
        super().__init__(model, config, data_info, train_cfg, device)
        self.timestep_sampler = make_timestep_sampler(config.timestep_sampler, model.diffusion.T)
        # previews use the paper's fast sampler: ancestral, respaced to 50 steps
        self.preview_kwargs = {"sampler": "ancestral", "steps": min(50, model.diffusion.T)}

    def sample_timesteps(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Timesteps and importance weights 1 / (T p_t) (all ones for the uniform sampler)."""
        return self.timestep_sampler.sample(n, self.device)

    def per_example_losses(self, x0, t, noise, cond: dict) -> dict[str, torch.Tensor]:
        """The training loss and its parts, one value per example (before importance weights)."""
        cfg, diffusion = self.config, self.model.diffusion
        xt = diffusion.q_sample(x0, t, noise)
        out = self.model.denoise(xt, t, **cond).float()
        eps, v = diffusion.split_output(out, x0.shape[1])
        parts: dict[str, torch.Tensor] = {}
        if cfg.loss in ("simple", "hybrid"):
            parts["mse"] = diffusion.simple_loss(eps, noise, t, cfg.p2_gamma, cfg.p2_k)
        if cfg.loss in ("vlb", "hybrid"):
            vlb_out = out
            if cfg.loss == "hybrid":  # stop-gradient on the mean: the VLB term trains v only
                vlb_out = torch.cat([eps.detach(), v], dim=1) if v is not None else out.detach()
            p = diffusion.p_mean_variance(vlb_out, xt, t, clip=False)
            parts["vlb"] = vlb_terms(diffusion, p, x0, xt, t) * diffusion.T
        if cfg.loss == "hybrid":
            parts["loss"] = parts["mse"] + cfg.vlb_weight * parts["vlb"]
        else:
            parts["loss"] = parts["mse" if cfg.loss == "simple" else "vlb"]
        return parts

    def loss(self, batch) -> tuple[torch.Tensor, dict[str, float]]:
        x0 = batch["image"].float()
        t, weights = self.sample_timesteps(x0.shape[0])
        parts = self.per_example_losses(x0, t, torch.randn_like(x0), self.labels(batch))
        self.timestep_sampler.update(_all_gather(t), _all_gather(parts["loss"].detach()))
        loss = (parts["loss"] * weights).mean()
        logs = {"loss": loss.item()}
        logs.update({f"loss_{k}": v.mean().item() for k, v in parts.items() if k != "loss"})
        return loss, logs

    def state_dict(self) -> dict:
        return {"timestep_sampler": self.timestep_sampler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.timestep_sampler.load_state_dict(state.get("timestep_sampler", {}))
