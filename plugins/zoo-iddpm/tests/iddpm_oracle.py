"""A Gaussian oracle: the exact denoiser for data x_0 ~ N(mu, s^2) per pixel (a test helper).

For such data every marginal is Gaussian, x_t ~ N(sqrt(ab) mu, ab s^2 + 1 - ab), so
E[eps | x_t] = sqrt(1 - ab) (x_t - sqrt(ab) mu) / (ab s^2 + 1 - ab), and the true reverse step
p(x_{t-1} | x_t) is Gaussian with variance b~_t + coef1_t^2 Var[x_0 | x_t]. With ``learned=True``
the oracle also outputs the v that gives exactly that variance under the (respaced) process it is
told about, so ancestral sampling with it is exact for any number of steps.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch
from torch import nn
from zoo_ddpm.diffusion import GaussianDiffusion, cosine_betas, respace, space_timesteps


def gaussian_stats(ab: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray]:
    """(ab s^2 + 1 - ab, Var[x_0 | x_t]) for every timestep."""
    d = ab * s**2 + 1 - ab
    return d, s**2 * (1 - ab) / d


class GaussianOracle(nn.Module):
    """Exposes what the samplers need: ``diffusion``, ``config`` and ``denoise(x, t)``."""

    zoo_name = "oracle"

    def __init__(self, T: int = 1000, mu: float = 0.4, s: float = 0.3, learned: bool = True,
                 steps: int | str | None = None, res: int = 4, channels: int = 1):
        super().__init__()
        self.mu, self.s, self.learned = mu, s, learned
        self.diffusion = GaussianDiffusion(cosine_betas(T), variance="learned" if learned else "small")
        self.config = SimpleNamespace(in_channels=channels, res=res, clip_denoised=False, timesteps=T,
                                      num_classes=0)
        self.anchor = nn.Parameter(torch.zeros(()))  # only so that next(parameters()) names a device
        # the process the sampler will run (respaced to ``steps``), for the exact v
        keep = space_timesteps(T, steps) if steps is not None else list(range(T))
        self.proc = respace(self.diffusion, keep) if len(keep) < T else self.diffusion
        self.index = torch.full((T,), -1, dtype=torch.long)  # model timestep -> step of ``proc``
        self.index[torch.as_tensor(self.proc.timestep_map)] = torch.arange(self.proc.T)
        self.v = self._exact_v()

    def _exact_v(self) -> np.ndarray:
        p = self.proc
        _, var_x0 = gaussian_stats(p.alphas_cumprod, self.s)
        true_var = p.posterior_variance + p.posterior_mean_coef1**2 * var_x0
        lo, hi = p.posterior_log_variance_clipped, np.log(p.betas)
        v = 2 * (np.log(true_var) - lo) / (hi - lo) - 1
        v[0] = 0.0  # the last step adds no noise
        return v

    def eps(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        ab = torch.as_tensor(self.diffusion.alphas_cumprod, dtype=torch.float64)[t].reshape(-1, 1, 1, 1)
        d = ab * self.s**2 + 1 - ab
        return ((1 - ab).sqrt() * (x.double() - ab.sqrt() * self.mu) / d).float()

    def denoise(self, x: torch.Tensor, t: torch.Tensor, **_) -> torch.Tensor:
        eps = self.eps(x, t)
        if not self.learned:
            return eps
        idx = self.index[t.cpu()]
        assert (idx >= 0).all(), "the sampler asked for a timestep outside the oracle's respacing"
        v = torch.as_tensor(self.v, dtype=torch.float32)[idx].reshape(-1, 1, 1, 1).expand_as(eps)
        return torch.cat([eps, v], dim=1)
