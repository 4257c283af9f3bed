"""Kernel Inception Distance (Bińkowski et al. 2018): unbiased MMD² with the cubic polynomial kernel
``k(x, y) = (x·y / d + 1)³``, averaged over random subsets (seeded), in float64."""

from __future__ import annotations

import torch

from ..errors import ZooError
from ..rng import seeded
from .base import FeatureBank, check_positive


def polynomial_kernel(x: torch.Tensor, y: torch.Tensor, degree: int = 3, gamma: float | None = None,
                      coef: float = 1.0) -> torch.Tensor:
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    return (x @ y.T * gamma + coef) ** degree


def mmd2_unbiased(x: torch.Tensor, y: torch.Tensor, **kernel) -> float:
    """The unbiased estimate of MMD² between samples ``x`` [m, D] and ``y`` [n, D]."""
    m, n = x.shape[0], y.shape[0]
    if m < 2 or n < 2:
        raise ZooError("KID needs at least 2 samples on each side")
    kxx = polynomial_kernel(x, x, **kernel)
    kyy = polynomial_kernel(y, y, **kernel)
    kxy = polynomial_kernel(x, y, **kernel)
    sxx = (kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1))
    syy = (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1))
    return float(sxx + syy - 2 * kxy.mean())


class KID(FeatureBank):
    """``{"kid": mean, "kid_std": std}`` over ``subsets`` random subsets of ``subset_size`` per side."""

    name = "kid"
    feature = "pool"

    def __init__(self, extractor=None, subsets: int = 100, subset_size: int = 1000, degree: int = 3,
                 seed: int = 0, **opts):
        unknown = opts.keys() - {"model", "device"}
        if unknown:
            raise ZooError(f"kid: unknown option(s) {sorted(unknown)} (subsets, subset_size, degree)")
        check_positive("kid", subsets=subsets, subset_size=subset_size)
        check_positive("kid", 10, degree=degree)
        self.subsets, self.subset_size, self.degree, self.seed = subsets, subset_size, degree, seed
        super().__init__(extractor)

    def compute(self) -> dict[str, float]:
        real, fake = self.features(True), self.features(False)
        m = min(self.subset_size, len(real), len(fake))
        g = seeded(self.seed)
        values = []
        for _ in range(self.subsets):
            xi = torch.randperm(len(real), generator=g)[:m]
            yi = torch.randperm(len(fake), generator=g)[:m]
            values.append(mmd2_unbiased(real[xi], fake[yi], degree=self.degree))
        v = torch.tensor(values, dtype=torch.float64)
        return {"kid": float(v.mean()), "kid_std": float(v.std(unbiased=True)) if len(v) > 1 else 0.0}
