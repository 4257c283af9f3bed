"""Gaussian diffusion: all the maths of DDPM and iDDPM in one class, for every diffusion model.

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

from .likelihood import discretized_gaussian_log_likelihood, mean_bits, normal_kl


def linear_betas(T: int, start: float = 1e-4, end: float = 0.02) -> np.ndarray:
    """Ho et al.'s linear schedule, scaled so that T != 1000 keeps the same total noise."""
    scale = 1000 / T
    return np.clip(np.linspace(scale * start, scale * end, T, dtype=np.float64), None, 0.999)


def cosine_betas(T: int, s: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    """Nichol & Dhariwal's cosine schedule: ab(t) = f(t)/f(0), f(t) = cos^2(((t/T + s)/(1 + s)) pi/2)."""
    f = lambda t: math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2  # noqa: E731
    return np.array([min(1 - f(i + 1) / f(i), max_beta) for i in range(T)], dtype=np.float64)


def rescale_zero_terminal_snr(betas: np.ndarray) -> np.ndarray:
    """Lin et al. (2024), Algorithm 1: shift and scale sqrt(ab_t) so that ab_{T-1} = 0 exactly and
    ab_0 is unchanged. With SNR(T) > 0 the last training step still shows the image's mean colour,
    which the model learns to expect and then hallucinates from pure noise (colour casts)."""
    s = np.sqrt(np.cumprod(1.0 - np.asarray(betas, dtype=np.float64)))
    s = (s - s[-1]) * s[0] / (s[0] - s[-1])
    ab = s**2
    return 1.0 - np.append(ab[0], ab[1:] / ab[:-1])


def make_betas(schedule: str, T: int, start: float = 1e-4, end: float = 0.02,
               zero_terminal_snr: bool = False) -> np.ndarray:
    """The named schedule's betas, optionally rescaled to zero terminal SNR."""
    if schedule == "linear":
        betas = linear_betas(T, start, end)
    elif schedule == "cosine":
        betas = cosine_betas(T)
    else:
        raise ValueError(f"unknown beta schedule {schedule!r}")
    return rescale_zero_terminal_snr(betas) if zero_terminal_snr else betas


def gather(arr: np.ndarray, t: torch.Tensor, ndim: int) -> torch.Tensor:
    """``arr[t]`` as a float32 tensor on t's device, shaped to broadcast over an image batch."""
    out = torch.as_tensor(arr, device=t.device)[t].float()
    return out.reshape(-1, *([1] * (ndim - 1)))


PREDICTIONS = ("eps", "v", "x0")


class GaussianDiffusion:
    """All the maths of a Gaussian diffusion: forward process, posterior, the reverse step's mean
    and variance, the VLB terms, the training losses and the bits/dim loop (improved-diffusion's
    ``GaussianDiffusion`` idea: one class, so every model and sampler shares one definition).

    ``variance`` is ``"large"`` (sigma^2 = b_t), ``"small"`` (sigma^2 = b~_t) or ``"learned"``
    (the network's extra output v interpolates log b_t and log b~_t, iDDPM).
    ``prediction`` is what the network outputs: ``"eps"`` (the noise, Ho et al.), ``"v"``
    (alpha_t eps - sigma_t x_0, Salimans & Ho 2022) or ``"x0"``; :meth:`to_eps` and :meth:`to_x0`
    turn any of them into the other two quantities, so samplers never depend on the choice.
    ``timestep_map`` maps this process's indices to the indices the network was trained on
    (the identity unless respaced).
    """

    def __init__(self, betas: np.ndarray, variance: str = "large", timestep_map: np.ndarray | None = None,
                 prediction: str = "eps"):
        betas = np.asarray(betas, dtype=np.float64)
        if betas.ndim != 1 or not ((betas > 0) & (betas <= 1)).all():
            raise ValueError("betas must be a 1-d array in (0, 1]")
        if prediction not in PREDICTIONS:
            raise ValueError(f"prediction must be one of {', '.join(PREDICTIONS)}, got {prediction!r}")
        self.betas, self.variance, self.prediction = betas, variance, prediction
        self.T = len(betas)
        self.timestep_map = np.arange(self.T) if timestep_map is None else np.asarray(timestep_map)
        alphas = 1.0 - betas
        self.alphas_cumprod = ac = np.cumprod(alphas)
        self.alphas_cumprod_prev = acp = np.append(1.0, ac[:-1])
        self.sqrt_alphas_cumprod = np.sqrt(ac)
        self.sqrt_one_minus_alphas_cumprod = np.sqrt(1.0 - ac)
        with np.errstate(divide="ignore"):  # ab = 0 at the end of a zero-terminal-SNR schedule
            self.sqrt_recip_alphas_cumprod = np.sqrt(1.0 / ac)
            self.sqrt_recipm1_alphas_cumprod = np.sqrt(1.0 / ac - 1)
        self.posterior_variance = pv = betas * (1.0 - acp) / (1.0 - ac)
        # b~_0 is 0: use b~_1 for the log so the learned interpolation stays finite at t = 0
        self.posterior_log_variance_clipped = np.log(np.append(pv[1], pv[1:])) if self.T > 1 else np.log(betas)
        self.posterior_mean_coef1 = betas * np.sqrt(acp) / (1.0 - ac)
        self.posterior_mean_coef2 = (1.0 - acp) * np.sqrt(alphas) / (1.0 - ac)
        self.snr = ac / (1.0 - ac)

    @property
    def zero_terminal_snr(self) -> bool:
        return bool(self.alphas_cumprod[-1] == 0)

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

    # ------------------------------------------------------ parameterisations
    def _alpha_sigma(self, t, ndim):
        return gather(self.sqrt_alphas_cumprod, t, ndim), gather(self.sqrt_one_minus_alphas_cumprod, t, ndim)

    def target(self, x0, noise, t):
        """What the network is trained to output at x_t = alpha_t x0 + sigma_t noise."""
        if self.prediction == "eps":
            return noise
        if self.prediction == "x0":
            return x0
        alpha, sigma = self._alpha_sigma(t, x0.ndim)
        return alpha * noise - sigma * x0

    def to_x0(self, model_out, xt, t):
        """The predicted x_0 (unclipped) from the raw network output at (x_t, t), for any prediction."""
        pred, _ = self.split_output(model_out, xt.shape[1])
        if self.prediction == "x0":
            return pred
        alpha, sigma = self._alpha_sigma(t, xt.ndim)
        if self.prediction == "v":
            return alpha * xt - sigma * pred
        return (xt - sigma * pred) / alpha

    def to_eps(self, model_out, xt, t):
        """The predicted noise from the raw network output at (x_t, t), for any prediction."""
        pred, _ = self.split_output(model_out, xt.shape[1])
        if self.prediction == "eps":
            return pred
        alpha, sigma = self._alpha_sigma(t, xt.ndim)
        if self.prediction == "v":
            return sigma * xt + alpha * pred
        return (xt - alpha * pred) / sigma

    # ---------------------------------------------------------- reverse process
    def split_output(self, out: torch.Tensor, channels: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Split a network output into the prediction (eps, v or x0) and, for learned variance, the raw v."""
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
        pred, v = self.split_output(out, xt.shape[1])
        x0 = self.to_x0(out, xt, t)
        if clip:
            x0 = x0.clamp(-1, 1)
        mean, _, _ = self.q_posterior(x0, xt, t)
        return {"mean": mean, "log_variance": self.model_log_variance(v, t, xt.shape), "pred_x0": x0,
                "eps": self.to_eps(out, xt, t), "v": v}

    def model_t(self, t: torch.Tensor) -> torch.Tensor:
        """The network's timestep for this process's index ``t`` (differs once respaced)."""
        return torch.as_tensor(self.timestep_map, device=t.device)[t]

    # ------------------------------------------------------------------ losses
    def p2_weight(self, t, gamma: float, k: float, ndim: int = 1):
        """Choi et al. (2022): weight 1 / (k + SNR(t))^gamma (1 when gamma = 0)."""
        return gather(1.0 / (k + self.snr) ** gamma, t, ndim)

    def min_snr_weight(self, t, gamma: float, ndim: int = 1):
        """Hang et al. (2023): the weight that turns this prediction's MSE into min(SNR, gamma) ||x0 err||^2.

        An error d in x0 is an error SNR d^2 in eps and (SNR + 1) d^2 in v, so the weights are
        min(SNR, g) / SNR (eps), min(SNR, g) / (SNR + 1) (v) and min(SNR, g) (x0).
        """
        snr = self.snr
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.prediction == "eps":
                w = np.minimum(1.0, gamma / snr)  # 1 where SNR = 0 (zero terminal SNR)
            elif self.prediction == "v":
                w = np.minimum(snr, gamma) / (snr + 1)
            else:
                w = np.minimum(snr, gamma)
        return gather(w, t, ndim)

    def simple_loss(self, pred, target, t, p2_gamma: float = 0.0, p2_k: float = 1.0, min_snr_gamma: float = 0.0):
        """L_simple per example: the mean squared error of the prediction, optionally P2 and/or Min-SNR weighted."""
        mse = (pred.float() - target).pow(2).mean(dim=tuple(range(1, target.ndim)))
        if p2_gamma:
            mse = mse * self.p2_weight(t, p2_gamma, p2_k)
        if min_snr_gamma:
            mse = mse * self.min_snr_weight(t, min_snr_gamma)
        return mse

    def vb_terms_bpd(self, out, x0, xt, t, clip: bool = False):
        """L_{t-1} per example in bits/dim for the network output ``out`` at (x_t, t)."""
        return self.vlb_terms(self.p_mean_variance(out, xt, t, clip=clip), x0, xt, t)

    def vlb_terms(self, p: dict, x0, xt, t):
        """L_{t-1} per example in bits/dim: the posterior KL for t >= 1, the decoder NLL at t = 0.

        ``p`` holds the reverse step's ``mean`` and ``log_variance`` (:meth:`p_mean_variance`).
        """
        true_mean, _, true_logvar = self.q_posterior(x0, xt, t)
        kl = mean_bits(normal_kl(true_mean, true_logvar, p["mean"], p["log_variance"]))
        decoder_nll = -mean_bits(discretized_gaussian_log_likelihood(x0, p["mean"], 0.5 * p["log_variance"]))
        return torch.where(t == 0, decoder_nll, kl)

    def prior_bpd(self, x0):
        """L_T = KL(q(x_T | x_0) || N(0, I)) per example in bits/dim (0 with zero terminal SNR)."""
        t = torch.full((x0.shape[0],), self.T - 1, device=x0.device, dtype=torch.long)
        mean, _, logvar = self.q_mean_variance(x0, t)
        zero = torch.zeros_like(mean)
        return mean_bits(normal_kl(mean, logvar.expand_as(mean), zero, zero))

    def training_losses(self, denoise, x0, t, *, noise=None, cond: dict | None = None, loss: str = "simple",
                        vlb_weight: float = 0.001, p2_gamma: float = 0.0, p2_k: float = 1.0,
                        min_snr_gamma: float = 0.0) -> dict[str, torch.Tensor]:
        """The loss and its parts per example for ``denoise(x_t, t, **cond)`` at timesteps ``t``.

        ``loss`` is ``simple`` (weighted MSE of the prediction), ``vlb`` (the bound, T L_t in bits/dim,
        an unbiased estimate of the full sum at uniform t) or ``hybrid`` (simple + vlb_weight * vlb,
        where the VLB sees a stop-gradient on the prediction so that it trains only the variance).
        """
        noise = torch.randn_like(x0) if noise is None else noise
        xt = self.q_sample(x0, t, noise)
        out = denoise(xt, self.model_t(t), **(cond or {})).float()
        pred, v = self.split_output(out, x0.shape[1])
        parts: dict[str, torch.Tensor] = {}
        if loss in ("simple", "hybrid"):
            parts["mse"] = self.simple_loss(pred, self.target(x0, noise, t), t, p2_gamma, p2_k, min_snr_gamma)
        if loss in ("vlb", "hybrid"):
            vlb_out = out
            if loss == "hybrid":
                vlb_out = torch.cat([pred.detach(), v], dim=1) if v is not None else out.detach()
            parts["vlb"] = self.vb_terms_bpd(vlb_out, x0, xt, t) * self.T
        if loss not in ("simple", "vlb", "hybrid"):
            raise ValueError(f"unknown loss {loss!r}")
        parts["loss"] = (parts["mse"] + vlb_weight * parts["vlb"] if loss == "hybrid"
                         else parts["mse" if loss == "simple" else "vlb"])
        return parts

    @torch.no_grad()
    def calc_bpd_loop(self, denoise, x0, *, steps: int | None = None, cond: dict | None = None, clip: bool = False,
                      generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """The bound's parts per image in bits/dim: ``prior``, ``kl`` (t >= 1), ``decoder`` (t = 0), ``total``.

        Every term at one draw of x_t ~ q(x_t | x_0) when ``steps`` is None. With ``steps=K`` only K
        network calls per image: t = 0, and one random t from each of K - 1 equal strata of 1..T-1
        whose KL is scaled by the stratum's size: unbiased for any K, exact in expectation.
        """
        T, n, device = self.T, x0.shape[0], x0.device
        k = T if steps is None else max(1, min(int(steps), T))
        strata = np.array_split(np.arange(1, T), max(1, k - 1)) if T > 1 else []
        kl = torch.zeros(n, device=device, dtype=torch.float64)
        decoder = torch.zeros_like(kl)
        for stratum in [np.array([0])] + [s for s in strata if len(s)]:
            pick = torch.randint(0, len(stratum), (n,), generator=generator)
            t = torch.as_tensor(stratum)[pick].to(device)
            noise = torch.randn(x0.shape, generator=generator).to(device)
            xt = self.q_sample(x0, t, noise)
            out = denoise(xt, self.model_t(t), **(cond or {})).float()
            term = self.vb_terms_bpd(out, x0, xt, t, clip=clip).double()
            if stratum[0] == 0:
                decoder += term
            else:
                kl += term * len(stratum)
        prior = self.prior_bpd(x0).double()
        return {"prior": prior, "kl": kl, "decoder": decoder, "total": prior + kl + decoder}


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
    return GaussianDiffusion(np.array(betas), base.variance, timestep_map=base.timestep_map[keep],
                             prediction=base.prediction)
