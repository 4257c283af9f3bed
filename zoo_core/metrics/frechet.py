"""Running Gaussian statistics of features and the Fréchet distance between two Gaussians, in float64.

    d² = |mu1 - mu2|² + tr S1 + tr S2 - 2 tr sqrt(S1 S2)

``tr sqrt(S1 S2)`` is the sum of the square roots of the eigenvalues of ``S1 S2``, which equal
those of the symmetric positive semi-definite ``A S2 A`` with ``A = S1^(1/2)``. Both square roots
come from ``eigh`` with negative round-off eigenvalues clipped to zero, so near-singular
covariances (fewer samples than dimensions) give a finite real number; no ``scipy.linalg.sqrtm``.
"""

from __future__ import annotations

import numpy as np

from ..rng import seeded


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((s + s.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def trace_sqrt_product(sigma1, sigma2) -> float:
    """``tr sqrt(S1 S2)`` for symmetric positive semi-definite ``S1``, ``S2``."""
    s1 = np.asarray(sigma1, dtype=np.float64)
    s2 = np.asarray(sigma2, dtype=np.float64)
    a = _psd_sqrt(s1)
    m = a @ s2 @ a
    w = np.linalg.eigvalsh((m + m.T) / 2)
    return float(np.sqrt(np.clip(w, 0, None)).sum())


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Squared Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2)."""
    mu1, mu2 = (np.asarray(m, dtype=np.float64).reshape(-1) for m in (mu1, mu2))
    s1, s2 = (np.atleast_2d(np.asarray(s, dtype=np.float64)) for s in (sigma1, sigma2))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise ValueError(f"shape mismatch: mu {mu1.shape} vs {mu2.shape}, sigma {s1.shape} vs {s2.shape}")
    diff = mu1 - mu2
    d = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * trace_sqrt_product(s1, s2))
    return max(d, 0.0)  # round-off can leave a tiny negative number for identical statistics


class GaussianStats:
    """Streaming mean and covariance of feature rows (float64 on the CPU; Chan et al. merging).

    Keeps ``n``, the mean and the sum of squared deviations only: memory is ``O(D²)`` whatever the
    number of samples.
    """

    def __init__(self, dim: int | None = None):
        self.n = 0
        self.mean: np.ndarray | None = None
        self.m2: np.ndarray | None = None
        if dim is not None:
            self.mean, self.m2 = np.zeros(dim), np.zeros((dim, dim))

    def update(self, x) -> None:
        """Add a batch ``[B, D]`` (a torch tensor or an array)."""
        if hasattr(x, "detach"):
            x = x.detach().to("cpu").double().numpy()
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"expected features [B, D], got shape {x.shape}")
        b = x.shape[0]
        if b == 0:
            return
        bmean = x.mean(0)
        dev = x - bmean
        bm2 = dev.T @ dev
        if self.n == 0 or self.mean is None:
            self.n, self.mean, self.m2 = b, bmean, bm2
            return
        if x.shape[1] != self.mean.shape[0]:
            raise ValueError(f"feature size changed from {self.mean.shape[0]} to {x.shape[1]}")
        total = self.n + b
        delta = bmean - self.mean
        self.m2 = self.m2 + bm2 + np.outer(delta, delta) * (self.n * b / total)
        self.mean = self.mean + delta * (b / total)
        self.n = total

    @property
    def cov(self) -> np.ndarray:
        if self.n < 2:
            raise ValueError(f"a covariance needs at least 2 samples, have {self.n}")
        return self.m2 / (self.n - 1)

    def state(self) -> dict[str, np.ndarray]:
        return {"mu": self.mean, "sigma": self.cov, "n": np.array([self.n], dtype=np.int64)}

    @classmethod
    def from_state(cls, mu, sigma, n: int) -> GaussianStats:
        stats = cls()
        stats.n = int(n)
        stats.mean = np.asarray(mu, dtype=np.float64).reshape(-1)
        stats.m2 = np.asarray(sigma, dtype=np.float64) * max(int(n) - 1, 1)
        return stats


def projection_fd(images, real, dim: int = 64, seed: int = 0) -> float:
    """Fréchet distance of a fixed, seeded random projection of the raw pixels to ``dim`` dimensions.

    It keeps the pixels' first and second moments (colour and spatial correlation), which is what
    tells flat shapes from noise at 16 px; the core's random conv extractor mostly sees mean colour.
    """
    import torch

    g = seeded(seed)
    w = torch.randn(real[0].numel(), dim, generator=g, dtype=torch.float64) / real[0].numel() ** 0.5
    a, b = GaussianStats(), GaussianStats()
    a.update(real.flatten(1).double() @ w)
    b.update(images.flatten(1).double() @ w)
    return frechet_distance(a.mean, a.cov, b.mean, b.cov)
