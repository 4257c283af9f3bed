"""Gaussian log-likelihood pieces of the variational bound, elementwise and parameter-free.

Written once here for :class:`~zoo_ddpm.diffusion.GaussianDiffusion`'s VLB terms (the hybrid and
VLB losses, and the bits/dim of ``nll``).
"""

from __future__ import annotations

import math

import torch

BIN = 1.0 / 255.0  # half a bin: data in [-1, 1] on 256 levels are 2/255 apart


def normal_kl(mean1: torch.Tensor, logvar1: torch.Tensor, mean2: torch.Tensor, logvar2: torch.Tensor) -> torch.Tensor:
    """KL(N(mean1, e^logvar1) || N(mean2, e^logvar2)) elementwise, in nats."""
    return 0.5 * (-1.0 + logvar2 - logvar1 + torch.exp(logvar1 - logvar2)
                  + (mean1 - mean2) ** 2 * torch.exp(-logvar2))


def discretized_gaussian_log_likelihood(x: torch.Tensor, mean: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
    """log P(x) elementwise (nats) for x in [-1, 1] on 256 levels under N(mean, e^(2 log_scale)).

    Each level owns the interval x +- 1/255; the lowest level also owns everything below it and the
    highest everything above, so the 256 probabilities sum to one. Tails use ``log_ndtr`` so that
    far-off bins stay finite.
    """
    inv = torch.exp(-log_scale)
    upper, lower = (x - mean + BIN) * inv, (x - mean - BIN) * inv
    log_cdf_upper = torch.special.log_ndtr(upper)  # log P(X <= x + bin)
    log_sf_lower = torch.special.log_ndtr(-lower)  # log P(X >= x - bin)
    # middle bins: P(lower < Z <= upper), computed on the side of zero where it does not cancel
    mid = torch.where(
        lower > 0,
        torch.special.ndtr(-lower) - torch.special.ndtr(-upper),
        torch.special.ndtr(upper) - torch.special.ndtr(lower),
    )
    log_mid = torch.log(mid.clamp(min=1e-12))
    return torch.where(x < -0.999, log_cdf_upper, torch.where(x > 0.999, log_sf_lower, log_mid))


def mean_bits(x: torch.Tensor) -> torch.Tensor:
    """Per-example mean over all but the first dimension, converted from nats to bits."""
    return x.mean(dim=tuple(range(1, x.ndim))) / math.log(2.0)
