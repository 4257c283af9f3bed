"""k-NN manifold precision and recall (Kynkäänniemi et al. 2019) and density and coverage
(Naeem et al. 2020), from the same distance computations.

Each sample's k-NN radius is the distance to its k-th nearest neighbour in its own set (itself
excluded). A generated sample is *precise* when it lies inside some real sample's ball; a real
sample is *recalled* when it lies inside some generated sample's ball. Density counts, per
generated sample, the real balls that hold it (divided by k, can exceed 1); coverage is the share
of real balls that hold at least one generated sample. Distances are computed in row blocks, so
memory stays ``O(block x N)``.
"""

from __future__ import annotations

import torch

from ..errors import ZooError
from .base import FeatureBank, check_positive


def knn_radii(x: torch.Tensor, k: int, block: int = 1024) -> torch.Tensor:
    """Distance from each row of ``x`` to its k-th nearest other row."""
    if len(x) <= k:
        raise ZooError(f"precision/recall with k={k} needs more than {k} samples per side, got {len(x)}")
    out = []
    for start in range(0, len(x), block):
        d = torch.cdist(x[start:start + block], x)
        out.append(d.kthvalue(k + 1, dim=1).values)  # the 1st is the row itself, at distance 0
    return torch.cat(out)


def _inside(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, block: int):
    """Per point: how many balls hold it; per ball: whether any point lies in it."""
    counts = torch.zeros(len(points), dtype=torch.long)
    covered = torch.zeros(len(centres), dtype=torch.bool)
    for start in range(0, len(points), block):
        hit = torch.cdist(points[start:start + block], centres) <= radii[None, :]
        counts[start:start + block] = hit.sum(1)
        covered |= hit.any(0)
    return counts, covered


def manifold_metrics(real: torch.Tensor, fake: torch.Tensor, k: int = 3, block: int = 1024) -> dict[str, float]:
    real, fake = real.double(), fake.double()
    r_real, r_fake = knn_radii(real, k, block), knn_radii(fake, k, block)
    in_real, covered = _inside(fake, real, r_real, block)
    in_fake, _ = _inside(real, fake, r_fake, block)
    return {
        "precision": float((in_real > 0).double().mean()),
        "recall": float((in_fake > 0).double().mean()),
        "density": float(in_real.double().sum() / (k * len(fake))),
        "coverage": float(covered.double().mean()),
    }


class PrecisionRecall(FeatureBank):
    """``{"precision", "recall", "density", "coverage"}`` with ``k`` nearest neighbours (default 3)."""

    name = "pr"
    feature = "pool"

    def __init__(self, extractor=None, k: int = 3, block: int = 1024, **opts):
        unknown = opts.keys() - {"model", "device", "seed"}
        if unknown:
            raise ZooError(f"pr: unknown option(s) {sorted(unknown)} (k, block)")
        check_positive("pr", k=k)
        check_positive("pr", 8192, block=block)  # block x N distances in memory at once
        self.k, self.block = k, block
        super().__init__(extractor)

    def compute(self) -> dict[str, float]:
        return manifold_metrics(self.features(True), self.features(False), self.k, self.block)
