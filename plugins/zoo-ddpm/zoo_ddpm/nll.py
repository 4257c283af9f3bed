"""Negative log-likelihood of images under any diffusion model (DDPM, iDDPM, ...), in bits/dim (its VLB).

``bits_per_dim(model, images)`` batches :meth:`GaussianDiffusion.calc_bpd_loop`: the prior term, the
T-1 posterior KLs and the discretised decoder at t = 0, each at one draw of x_t ~ q(x_t | x_0). With
``steps=K`` only K network calls per image are made (one t per stratum of 1..T-1): an unbiased but
noisier estimate of the same sum, fine for tracking a run, while numbers to report use the full sum.
``zoo eval RUN --data D --metrics nll [-o nll.steps=K]`` runs it on real images.
"""

from __future__ import annotations

from typing import Any

import torch

from zoo_core.errors import ZooError
from zoo_core.rng import seeded


def _labels(model, labels, n: int, device) -> dict:
    if not getattr(model.config, "num_classes", 0):
        return {}
    if labels is None:
        raise ZooError(f"this {model.zoo_name} model is class-conditional: its NLL needs the images' labels")
    labels = torch.as_tensor(labels, dtype=torch.long, device=device).reshape(n)
    if labels.min() < 0 or labels.max() >= model.config.num_classes:
        raise ZooError(f"labels must lie in 0..{model.config.num_classes - 1} for this class-conditional model "
                       "(is the data labelled the way it was for training?)")
    return {"label": labels}


def bits_per_dim(model, images: torch.Tensor, *, steps: int | None = None, batch_size: int = 64,
                 labels=None, clip: bool = False, seed: int = 0) -> dict[str, float]:
    """Mean NLL bound in bits/dim of ``images`` (NCHW in [-1, 1], 8-bit levels) under ``model``.

    Returns ``{"nll_bpd", "prior_bpd", "kl_bpd", "decoder_bpd"}``; ``steps`` subsamples the KL terms
    (approximate, see the module docstring). Seeded: the same call gives the same number.
    """
    if images.ndim != 4 or images.shape[0] == 0:
        raise ZooError(f"bits_per_dim needs a non-empty NCHW batch of images, got shape {tuple(images.shape)}")
    device = next(model.parameters()).device
    g = seeded(seed)
    sums: dict[str, float] = {}
    was_training = model.training
    model.eval()
    try:
        for start in range(0, images.shape[0], batch_size):
            x0 = images[start:start + batch_size].to(device).float()
            lab = None if labels is None else torch.as_tensor(labels)[start:start + batch_size]
            cond = _labels(model, lab, len(x0), device)
            parts = model.diffusion.calc_bpd_loop(model.denoise, x0, steps=steps, cond=cond, clip=clip, generator=g)
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + float(v.sum())
    finally:
        model.train(was_training)
    n = images.shape[0]
    return {"nll_bpd": sums["total"] / n, "prior_bpd": sums["prior"] / n, "kl_bpd": sums["kl"] / n,
            "decoder_bpd": sums["decoder"] / n}


class NLLMetric:
    """``zoo eval --metrics nll``: the bound in bits/dim of the real images under the evaluated model.

    Options (``-o nll.KEY=VALUE``): ``steps`` (evaluate K of the T terms, approximate; default all),
    ``batch_size`` (default 64), ``clip`` (clip the predicted x0 as the sampler does; default false).
    """

    name = "nll"
    needs = "model"
    needs_real = True
    needs_fake = False

    def __init__(self, extractor=None, model=None, device=None, seed: int = 0, steps: int | None = None,
                 batch_size: int = 64, clip: bool = False, **options: Any):
        if options:
            raise ZooError(f"nll: unknown option(s) {', '.join(sorted(options))} (steps, batch_size, clip)")
        if model is None or not hasattr(model, "diffusion") or not hasattr(model, "denoise"):
            raise ZooError("nll needs a diffusion model (ddpm, iddpm) to evaluate")
        if steps is not None and not (isinstance(steps, int) and 1 <= steps <= model.diffusion.T):
            raise ZooError(f"nll.steps must be an integer between 1 and {model.diffusion.T}, got {steps!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ZooError(f"nll.batch_size must be a positive integer, got {batch_size!r}")
        self.model, self.seed, self.steps, self.batch_size, self.clip = model, seed, steps, batch_size, bool(clip)
        self.reset()

    def reset(self) -> None:
        self.sums: dict[str, float] = {}
        self.n = 0
        self.calls = 0

    def update(self, images: torch.Tensor, *, real: bool = True, labels=None) -> None:
        if not real:
            return
        out = bits_per_dim(self.model, images, steps=self.steps, batch_size=self.batch_size, labels=labels,
                           clip=self.clip, seed=self.seed + self.calls)
        self.calls += 1
        for k, v in out.items():
            self.sums[k] = self.sums.get(k, 0.0) + v * images.shape[0]
        self.n += images.shape[0]

    def compute(self) -> dict[str, float]:
        if not self.n:
            raise ZooError("nll: no real images were given")
        return {k: v / self.n for k, v in self.sums.items()}
