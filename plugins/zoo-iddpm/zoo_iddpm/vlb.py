"""The variational bound of a Gaussian diffusion, term by term, in bits per dimension.

-log p(x_0) <= L_vlb = L_0 + L_1 + ... + L_{T-1} + L_T with

* L_T = KL(q(x_T | x_0) || N(0, I))                        (the prior term, no parameters),
* L_{t-1} = KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t))   for t >= 1 (Gaussian KLs),
* L_0 = -log p(x_0 | x_1)                                    (a Gaussian discretised to 256 bins).

Everything is written once here and used by the hybrid loss (``trainer``) and the NLL
evaluation (``nll``). Per-example values are means over pixels divided by log 2 (bits/dim).
"""

from __future__ import annotations

import math

import torch
from zoo_ddpm.diffusion import GaussianDiffusion

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


def vlb_terms(diffusion: GaussianDiffusion, p: dict, x0: torch.Tensor, xt: torch.Tensor,
              t: torch.Tensor) -> torch.Tensor:
    """L_{t-1} per example in bits/dim: the posterior KL for t >= 1, the decoder NLL at t = 0.

    ``p`` is :meth:`GaussianDiffusion.p_mean_variance` at (x_t, t) (``mean`` and ``log_variance``).
    """
    true_mean, _, true_logvar = diffusion.q_posterior(x0, xt, t)
    kl = mean_bits(normal_kl(true_mean, true_logvar, p["mean"], p["log_variance"]))
    decoder_nll = -mean_bits(discretized_gaussian_log_likelihood(x0, p["mean"], 0.5 * p["log_variance"]))
    return torch.where(t == 0, decoder_nll, kl)


def prior_bpd(diffusion: GaussianDiffusion, x0: torch.Tensor) -> torch.Tensor:
    """L_T = KL(q(x_T | x_0) || N(0, I)) per example in bits/dim (small for a good schedule)."""
    t = torch.full((x0.shape[0],), diffusion.T - 1, device=x0.device, dtype=torch.long)
    mean, _, logvar = diffusion.q_mean_variance(x0, t)
    zero = torch.zeros_like(mean)
    return mean_bits(normal_kl(mean, logvar.expand_as(mean), zero, zero))
