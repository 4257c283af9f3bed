"""Latent-space helpers: great-circle interpolation, truncated noise and the ``latent`` sampler.

GAN latents are standard Gaussian. In many dimensions such vectors lie near a sphere of radius
sqrt(dim), and a straight line between two of them cuts through the low-density middle of the
ball (its midpoint has norm ~ sqrt(dim/2)), which the generator never saw. ``slerp`` walks along
the sphere instead.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from zoo_core.errors import ZooError
from zoo_core.rng import seeded


def slerp(a: torch.Tensor, b: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """Spherical interpolation from ``a`` (t=0) to ``b`` (t=1) along the last dimension.

    The direction moves along the great circle between ``a/|a|`` and ``b/|b|`` and the norm moves
    linearly from ``|a|`` to ``|b|``; so ``t=0`` and ``t=1`` give exactly ``a`` and ``b``, and when
    ``|a| == |b|`` every point keeps that norm. ``t`` may be a tensor broadcasting against
    ``a[..., :1]`` (e.g. shape ``[frames, 1]`` for a ``[dim]`` pair). Nearly parallel or antipodal
    pairs (no unique great circle) fall back to a linear path of the directions, renormalised.
    """
    a, b = torch.as_tensor(a), torch.as_tensor(b)
    dtype = torch.promote_types(a.dtype, torch.float32)
    a64, b64 = a.to(torch.float64), b.to(torch.float64)
    t = torch.as_tensor(t, dtype=torch.float64, device=a.device)
    na, nb = a64.norm(dim=-1, keepdim=True), b64.norm(dim=-1, keepdim=True)
    ua, ub = a64 / na.clamp_min(1e-12), b64 / nb.clamp_min(1e-12)
    cos = (ua * ub).sum(-1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    sin = torch.sin(omega)
    ok = sin.abs() > 1e-6
    safe_sin = torch.where(ok, sin, torch.ones_like(sin))
    wa = torch.where(ok, torch.sin((1 - t) * omega) / safe_sin, 1 - t)
    wb = torch.where(ok, torch.sin(t * omega) / safe_sin, t)
    direction = wa * ua + wb * ub
    direction = direction / direction.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    out = direction * ((1 - t) * na + t * nb)
    # exact end points, whatever the rounding on the way
    out = torch.where(t == 0, a64.expand_as(out), out)
    out = torch.where(t == 1, b64.expand_as(out), out)
    return out.to(dtype)


def truncated_noise(shape: tuple[int, ...] | torch.Size, truncation: float | None,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """Standard Gaussian noise, truncated to ``[-truncation, truncation]`` when given.

    Truncation is BigGAN's trick: entries with ``|z| > truncation`` are *resampled* (not scaled
    or clipped), i.e. each entry follows the standard normal restricted to the interval. Smaller
    values trade variety for fidelity; ``None`` is no truncation; ``truncation`` is in standard
    deviations (0.5 .. 2 is the useful range).

    Every entry is drawn by the inverse CDF of one float64 uniform, truncated or not. Unlike
    ``torch.randn`` (whose CPU kernel changes algorithm with the tensor size) this makes the stream
    independent of how a request is split into batches: ``generate(n, seed=s)`` gives the same
    latents for any ``batch_size``.
    """
    if truncation is not None and not truncation > 0:
        raise ZooError(f"--truncation must be > 0 (a threshold in standard deviations), got {truncation}")
    lo = 0.5 * (1.0 + math.erf(-truncation / math.sqrt(2.0))) if truncation is not None else 0.0  # Phi(-c)
    u = torch.rand(tuple(shape), generator=generator, dtype=torch.float64)
    u = (lo + (1.0 - 2.0 * lo) * u).clamp(1e-16, 1.0 - 1e-16)
    z = torch.special.ndtri(u)
    return (z if truncation is None else z.clamp(-truncation, truncation)).float()


def latent_sampler(model: Any, n: int, *, generator: torch.Generator, steps: int | None = None,
                   progress: Any = None, truncation: float | None = None, **kwargs: Any) -> torch.Tensor:
    """The ``latent`` sampler: ``n`` images from (optionally truncated) Gaussian latents.

    Works with any GAN generator that has ``latent_shape`` (a tuple) and
    ``synthesize(z, generator=..., **kwargs)``; conditions such as ``label=`` or ``prompt=`` pass
    through to ``synthesize``, which draws what it needs from ``generator`` after ``z``.
    """
    if steps is not None:
        raise ZooError(f"{model.zoo_name} makes an image in one forward pass; --steps does not apply")
    z = truncated_noise((n, *model.latent_shape), truncation, generator)
    device = next(model.parameters()).device
    return model.synthesize(z.to(device), generator=generator, **kwargs)


def seed_latent(seed: int, shape: tuple[int, ...], truncation: float | None = None) -> torch.Tensor:
    """The latent ``generate(1, seed=seed)`` draws first (shape ``[1, *shape]``), for interpolation."""
    return truncated_noise((1, *shape), truncation, seeded(seed))
