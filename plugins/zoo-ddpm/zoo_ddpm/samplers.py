"""Samplers for every diffusion model: ancestral (optionally respaced) and DDIM here, the few-step
ODE solvers (DPM-Solver++ 2M, EDM Heun) in :mod:`zoo_ddpm.solvers`.

A model qualifies by exposing ``diffusion`` (a :class:`~zoo_ddpm.diffusion.GaussianDiffusion`),
``config.in_channels``/``config.res`` and ``denoise(x, t, **cond)`` returning the raw network
output. All randomness comes from the ``generator`` passed in. :func:`denoised` is the one place
that turns a network output into (x0, eps), whatever the network predicts.
"""

from __future__ import annotations

import torch

from zoo_core.generation import Progress, randn

from .diffusion import GaussianDiffusion, gather, respace, space_timesteps


def _process(model, steps: int | str | None) -> GaussianDiffusion:
    base = model.diffusion
    if steps is None or str(steps) == str(base.T):
        return base
    return respace(base, space_timesteps(base.T, steps))


def _shape(model, n: int):
    return (n, model.config.in_channels, model.config.res, model.config.res)


def _device(model):
    return next(model.parameters()).device


def start_noise(model, n: int, generator: torch.Generator, x_T: torch.Tensor | None = None) -> torch.Tensor:
    """x_T: standard normal noise from ``generator`` (or the given tensor) on the model's device."""
    device = _device(model)
    return randn(_shape(model, n), generator, device) if x_T is None else x_T.to(device)


def denoised(diffusion: GaussianDiffusion, out: torch.Tensor, x: torch.Tensor, t: torch.Tensor,
             clip: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(x0, eps) predicted from the network output ``out`` at (x_t, t); ``t`` indexes ``diffusion``.

    ``diffusion.to_x0``/``to_eps`` read eps, v or x0 predictions (learned-variance channels are
    dropped). With ``clip`` x0 is clamped to [-1, 1] and eps recomputed from it, so the two stay
    consistent.
    """
    out = out.float()
    x0, eps = diffusion.to_x0(out, x, t), diffusion.to_eps(out, x, t)
    if clip:  # eps from x0 this way stays finite at a zero-terminal-SNR step (alpha-bar = 0)
        x0 = x0.clamp(-1, 1)
        eps = (x - gather(diffusion.sqrt_alphas_cumprod, t, x.ndim) * x0) / gather(
            diffusion.sqrt_one_minus_alphas_cumprod, t, x.ndim)
    return x0, eps


def ancestral(model, n: int, *, generator: torch.Generator, steps: int | str | None = None,
              progress: Progress | None = None, clip: bool | None = None, cond: dict | None = None,
              x_T: torch.Tensor | None = None, **_) -> torch.Tensor:
    """DDPM ancestral sampling, x_{t-1} = mu_theta(x_t, t) + sigma_t z; ``steps`` < T respaces."""
    diffusion = _process(model, steps)
    clip = model.config.clip_denoised if clip is None else clip
    device, cond = _device(model), cond or {}
    x = start_noise(model, n, generator, x_T)
    progress = progress or Progress()
    for i in progress.track(range(diffusion.T - 1, -1, -1)):
        t = torch.full((n,), i, device=device, dtype=torch.long)
        out = model.denoise(x, diffusion.model_t(t), **cond)
        p = diffusion.p_mean_variance(out.float(), x, t, clip=clip)
        if i > 0:
            x = p["mean"] + torch.exp(0.5 * p["log_variance"]) * randn(x.shape, generator, device)
        else:
            x = p["mean"]
    return x


def ddim(model, n: int, *, generator: torch.Generator, steps: int | str | None = 50, eta: float = 0.0,
         progress: Progress | None = None, clip: bool | None = None, cond: dict | None = None,
         x_T: torch.Tensor | None = None, **_) -> torch.Tensor:
    """DDIM (Song et al. 2021) over ``steps`` of the T timesteps; ``eta=0`` is deterministic, 1 is DDPM-like."""
    diffusion = _process(model, steps or 50)
    clip = model.config.clip_denoised if clip is None else clip
    device, cond = _device(model), cond or {}
    x = start_noise(model, n, generator, x_T)
    progress = progress or Progress()
    ac, acp = diffusion.alphas_cumprod, diffusion.alphas_cumprod_prev
    for i in progress.track(range(diffusion.T - 1, -1, -1)):
        t = torch.full((n,), i, device=device, dtype=torch.long)
        out = model.denoise(x, diffusion.model_t(t), **cond)
        x0, eps = denoised(diffusion, out, x, t, clip)
        a, a_prev = float(ac[i]), float(acp[i])
        sigma = eta * ((1 - a_prev) / (1 - a) * (1 - a / a_prev)) ** 0.5
        x = a_prev ** 0.5 * x0 + max(1 - a_prev - sigma**2, 0.0) ** 0.5 * eps
        if i > 0 and sigma > 0:
            x = x + sigma * randn(x.shape, generator, device)
    return x


ddim.default_steps = 50
