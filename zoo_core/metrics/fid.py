"""Fréchet Inception Distance: running float64 mean/covariance of pool features, never the images."""

from __future__ import annotations

import torch

from ..errors import ZooError
from .base import FeatureMetric
from .frechet import GaussianStats, frechet_distance


class FID(FeatureMetric):
    """``{"fid": d}`` between the real and generated feature Gaussians (Heusel et al. 2017)."""

    name = "fid"
    feature = "pool"

    def __init__(self, extractor=None, **opts):
        if opts.keys() - {"model", "device", "seed"}:
            raise ZooError(f"fid takes no options (got {sorted(opts.keys() - {'model', 'device', 'seed'})})")
        super().__init__(extractor)

    def reset(self) -> None:
        self.real, self.fake = GaussianStats(), GaussianStats()

    def _add(self, x, *, real):
        (self.real if real else self.fake).update(x)

    def compute(self) -> dict[str, float]:
        for stats, side in ((self.real, "real"), (self.fake, "generated")):
            if stats.n < 2:
                raise ZooError(f"fid needs at least 2 {side} images, got {stats.n}")
        if self.real.mean.shape != self.fake.mean.shape:
            raise ZooError(f"the real statistics have {self.real.mean.size} features but this extractor gives "
                           f"{self.fake.mean.size}: they were computed with another extractor; recompute them "
                           "with --data DIR --save-stats FILE")
        return {"fid": frechet_distance(self.real.mean, self.real.cov, self.fake.mean, self.fake.cov)}

    def real_state(self) -> dict[str, torch.Tensor]:
        if self.real.n < 2:
            return {}
        st = self.real.state()
        return {"fid.mu": torch.from_numpy(st["mu"]), "fid.sigma": torch.from_numpy(st["sigma"]),
                "fid.n": torch.from_numpy(st["n"])}

    def load_real_state(self, state: dict[str, torch.Tensor]) -> None:
        if "fid.mu" not in state or "fid.sigma" not in state:
            raise ZooError("these statistics hold no FID mean/covariance (fid.mu, fid.sigma)")
        mu, sigma = state["fid.mu"], state["fid.sigma"]
        if mu.ndim != 1 or tuple(sigma.shape) != (mu.numel(), mu.numel()):
            raise ZooError(f"these statistics' fid.mu is {tuple(mu.shape)} and fid.sigma {tuple(sigma.shape)}; "
                           "expected (D,) and (D, D)")
        if not (torch.isfinite(mu).all() and torch.isfinite(sigma).all()):
            raise ZooError("these statistics hold NaN or inf values: recompute them with --data DIR --save-stats FILE")
        n = int(state["fid.n"].reshape(-1)[0]) if "fid.n" in state else 2  # unknown (.npz): sigma is kept as is
        self.real = GaussianStats.from_state(state["fid.mu"].double().numpy(), state["fid.sigma"].double().numpy(),
                                             max(n, 2))
