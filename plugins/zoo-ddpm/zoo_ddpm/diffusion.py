"""Gaussian diffusion: all the maths of DDPM in one place (and the base iDDPM extends).

Notation follows Ho et al. (2020): ``betas`` b_t, ``alphas_cumprod`` ab_t,
q(x_t | x_0) = N(sqrt(ab_t) x_0, (1 - ab_t) I) and the posterior
q(x_{t-1} | x_t, x_0) = N(mu~_t, b~_t I) with b~_t = b_t (1 - ab_{t-1}) / (1 - ab_t).
Schedules are computed in float64 and gathered per timestep as float32 tensors.
Respacing (Nichol & Dhariwal 2021) keeps a subset of timesteps and recomputes betas from the kept
alpha-bar values, so any model trained with T steps samples with K of them.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from zoo_core.errors import ZooError


def linear_betas(T: int, start: float = 1e-4, end: float = 0.02) -> np.ndarray:
    """Ho et al.'s linear schedule, scaled so that T != 1000 keeps the same total noise."""
    scale = 1000 / T
    return np.clip(np.linspace(scale * start, scale * end, T, dtype=np.float64), None, 0.999)


def cosine_betas(T: int, s: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    """Nichol & Dhariwal's cosine schedule: ab(t) = f(t)/f(0), f(t) = cos^2(((t/T + s)/(1 + s)) pi/2)."""
    f = lambda t: math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2  # noqa: E731
    return np.array([min(1 - f(i + 1) / f(i), max_beta) for i in range(T)], dtype=np.float64)


def make_betas(schedule: str, T: int, start: float = 1e-4, end: float = 0.02) -> np.ndarray:
    if schedule == "linear":
        return linear_betas(T, start, end)
    if schedule == "cosine":
        return cosine_betas(T)
    raise ValueError(f"unknown beta schedule {schedule!r}")


def gather(arr: np.ndarray, t: torch.Tensor, ndim: int) -> torch.Tensor:
    """``arr[t]`` as a float32 tensor on t's device, shaped to broadcast over an image batch."""
    out = torch.as_tensor(arr, device=t.device)[t].float()
    return out.reshape(-1, *([1] * (ndim - 1)))


class GaussianDiffusion:
    """Forward process, posterior, model mean/variance and the simple loss for a beta schedule.

    ``variance`` is ``"large"`` (sigma^2 = b_t), ``"small"`` (sigma^2 = b~_t) or ``"learned"``
    (the network's extra output v interpolates log b_t and log b~_t, iDDPM).
    ``timestep_map`` maps this process's indices to the indices the network was trained on
    (the identity unless respaced).
    """

    def __init__(self, betas: np.ndarray, variance: str = "large", timestep_map: np.ndarray | None = None):
        betas = np.asarray(betas, dtype=np.float64)
        if betas.ndim != 1 or not ((betas > 0) & (betas <= 1)).all():
            raise ValueError("betas must be a 1-d array in (0, 1]")
        self.betas, self.variance = betas, variance
        self.T = len(betas)
        self.timestep_map = np.arange(self.T) if timestep_map is None else np.asarray(timestep_map)
        alphas = 1.0 - betas
        self.alphas_cumprod = ac = np.cumprod(alphas)
        self.alphas_cumprod_prev = acp = np.append(1.0, ac[:-1])
        self.sqrt_alphas_cumprod = np.sqrt(ac)
        self.sqrt_one_minus_alphas_cumprod = np.sqrt(1.0 - ac)
        self.sqrt_recip_alphas_cumprod = np.sqrt(1.0 / ac)
        self.sqrt_recipm1_alphas_cumprod = np.sqrt(1.0 / ac - 1)
        self.posterior_variance = pv = betas * (1.0 - acp) / (1.0 - ac)
        # b~_0 is 0: use b~_1 for the log so the learned interpolation stays finite at t = 0
        self.posterior_log_variance_clipped = np.log(np.append(pv[1], pv[1:])) if self.T > 1 else np.log(betas)
        self.posterior_mean_coef1 = betas * np.sqrt(acp) / (1.0 - ac)
        self.posterior_mean_coef2 = (1.0 - acp) * np.sqrt(alphas) / (1.0 - ac)
        self.snr = ac / (1.0 - ac)

    # ---------------------------------------------------------- forward process
    def q_mean_variance(self, x0, t):
        mean = gather(self.sqrt_alphas_cumprod, t, x0.ndim) * x0
        var = gather(1.0 - self.alphas_cumprod, t, x0.ndim)
        return mean, var, torch.log(var)

    def q_sample(self, x0, t, noise=None):
        """Draw x_t ~ q(x_t | x_0) in closed form."""
        noise = torch.randn_like(x0) if noise is None else noise
        return gather(self.sqrt_alphas_cumprod, t, x0.ndim) * x0 + gather(
            self.sqrt_one_minus_alphas_cumprod, t, x0.ndim) * noise

    def q_posterior(self, x0, xt, t):
        """Mean, variance and clipped log-variance of q(x_{t-1} | x_t, x_0)."""
        n = xt.ndim
        mean = gather(self.posterior_mean_coef1, t, n) * x0 + gather(self.posterior_mean_coef2, t, n) * xt
        return mean, gather(self.posterior_variance, t, n), gather(self.posterior_log_variance_clipped, t, n)

    def predict_x0(self, xt, t, eps):
        n = xt.ndim
        return gather(self.sqrt_recip_alphas_cumprod, t, n) * xt - gather(self.sqrt_recipm1_alphas_cumprod, t, n) * eps

    def predict_eps(self, xt, t, x0):
        n = xt.ndim
        return (gather(self.sqrt_recip_alphas_cumprod, t, n) * xt - x0) / gather(self.sqrt_recipm1_alphas_cumprod, t, n)

    # ---------------------------------------------------------- reverse process
    def split_output(self, out: torch.Tensor, channels: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Split a network output into eps and (for learned variance) the raw v."""
        if self.variance == "learned":
            return out[:, :channels], out[:, channels:]
        return out, None

    def model_log_variance(self, v, t, shape):
        """log sigma_t^2 for the configured variance type; ``v`` in [-1, 1] for learned variance."""
        n = len(shape)
        if self.variance == "learned":
            min_log = gather(self.posterior_log_variance_clipped, t, n)
            max_log = gather(np.log(self.betas), t, n)
            frac = (v + 1) / 2
            return frac * max_log + (1 - frac) * min_log
        if self.variance == "large":
            # as in Ho et al.'s code: b~_1 at t = 0 so the last step is not needlessly noisy
            log_var = np.log(np.append(self.posterior_variance[1], self.betas[1:])) if self.T > 1 else np.log(self.betas)
        else:
            log_var = self.posterior_log_variance_clipped
        return gather(log_var, t, n).expand(shape)

    def p_mean_variance(self, out, xt, t, clip: bool = True):
        """The reverse step's mean and log-variance from the network output at (x_t, t)."""
        eps, v = self.split_output(out, xt.shape[1])
        x0 = self.predict_x0(xt, t, eps)
        if clip:
            x0 = x0.clamp(-1, 1)
        mean, _, _ = self.q_posterior(x0, xt, t)
        return {"mean": mean, "log_variance": self.model_log_variance(v, t, xt.shape), "pred_x0": x0,
                "eps": eps, "v": v}

    def model_t(self, t: torch.Tensor) -> torch.Tensor:
        """The network's timestep for this process's index ``t`` (differs once respaced)."""
        return torch.as_tensor(self.timestep_map, device=t.device)[t]

    # ------------------------------------------------------------------ losses
    def p2_weight(self, t, gamma: float, k: float, ndim: int = 1):
        """Choi et al. (2022): weight 1 / (k + SNR(t))^gamma (1 when gamma = 0)."""
        return gather(1.0 / (k + self.snr) ** gamma, t, ndim)

    def simple_loss(self, eps_pred, noise, t, p2_gamma: float = 0.0, p2_k: float = 1.0):
        """L_simple per example: mean squared error of eps, optionally P2-weighted."""
        mse = (eps_pred.float() - noise).pow(2).mean(dim=tuple(range(1, noise.ndim)))
        return mse * self.p2_weight(t, p2_gamma, p2_k) if p2_gamma else mse


def space_timesteps(T: int, spec: str | int) -> list[int]:
    """Which of T timesteps to keep, exactly as ``space_timesteps`` in Nichol & Dhariwal's
    improved-diffusion (respace.py), so that their step counts and checkpoints give the same process.

    ``spec`` is ``50`` or ``"50"`` (one section), ``"10,15,20"`` (that many steps from each of three
    near-equal sections; the first ``T % 3`` sections are one step longer) or ``"ddim50"`` (the one
    integer stride giving 50 steps, as in the DDIM paper). Within a section of s steps, c steps are
    ``round(x)`` for x = 0, d, d + d, ... with d = (s - 1) / (c - 1): the stride is *accumulated* in
    float and rounded half to even, as the reference does, which is why 21 of 1000 keeps 499 (not
    500, which ``round(10 * d)`` would give) and why ``"1"`` keeps step 0. Bad specs raise ZooError.
    """
    text = str(spec).strip()
    if text.startswith("ddim"):
        try:
            k = int(text[4:])
        except ValueError:
            raise ZooError(f"bad respacing {text!r}: expected ddimN, e.g. ddim50") from None
        for stride in range(1, T):
            if len(range(0, T, stride)) == k:
                return list(range(0, T, stride))
        raise ZooError(f"cannot make {k} equally strided steps out of {T} (ddim{k})")
    try:
        counts = [int(c) for c in text.split(",")]
    except ValueError:
        raise ZooError(f"bad respacing {text!r}: expected step counts such as 50 or 10,15,20, "
                       "or ddimN") from None
    if any(c < 0 for c in counts):
        raise ZooError(f"bad respacing {text!r}: step counts must not be negative")
    size, extra = divmod(T, len(counts))
    kept, start = set(), 0
    for i, count in enumerate(counts):
        section = size + (1 if i < extra else 0)
        if count > section:
            raise ZooError(f"cannot take {count} steps from a section of {section} (respacing {text!r})")
        stride = 1 if count <= 1 else (section - 1) / (count - 1)
        idx = 0.0
        for _ in range(count):
            kept.add(start + round(idx))
            idx += stride
        start += section
    if not kept:
        raise ZooError(f"respacing {text!r} keeps no timesteps")
    return sorted(kept)


def respace(base: GaussianDiffusion, keep: list[int]) -> GaussianDiffusion:
    """A process over the kept timesteps whose betas reproduce the kept alpha-bar values."""
    keep = sorted(keep)
    betas, last = [], 1.0
    for i in keep:
        ac = base.alphas_cumprod[i]
        betas.append(1 - ac / last)
        last = ac
    return GaussianDiffusion(np.array(betas), base.variance, timestep_map=base.timestep_map[keep])
