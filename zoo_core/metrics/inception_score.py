"""Inception Score (Salimans et al. 2016): ``exp E_x KL(p(y|x) || p(y))`` on generated images.

Like the original code it splits the samples, in order, into ``splits`` parts (default 10) and
reports the mean and standard deviation of the per-part scores. Class probabilities are the
softmax of the extractor's ``logits`` (for the FID Inception: the 1008 unbiased logits).
"""

from __future__ import annotations

import torch

from ..errors import ZooError
from .base import FeatureMetric, check_positive


def inception_score(logits: torch.Tensor, splits: int = 10) -> tuple[float, float]:
    """Mean and std of the Inception Score over ``splits`` consecutive parts of ``logits`` [N, K]."""
    logp = torch.log_softmax(logits.double(), dim=1)
    n = logp.shape[0]
    if n < splits:
        raise ZooError(f"the Inception Score with {splits} splits needs at least {splits} images, got {n}")
    scores = []
    for part in torch.tensor_split(logp, splits):
        p = part.exp()
        log_py = torch.logsumexp(part, 0) - torch.log(torch.tensor(float(len(part)), dtype=torch.float64))
        kl = (p * (part - log_py)).sum(1).mean()
        scores.append(torch.exp(kl))
    s = torch.stack(scores)
    return float(s.mean()), float(s.std(unbiased=False)) if len(s) > 1 else 0.0


class InceptionScore(FeatureMetric):
    """``{"is": mean, "is_std": std}``; uses generated images only (real ones are ignored)."""

    name = "is"
    feature = "logits"
    needs_real = False

    def __init__(self, extractor=None, splits: int = 10, **opts):
        unknown = opts.keys() - {"model", "device", "seed"}
        if unknown:
            raise ZooError(f"is: unknown option(s) {sorted(unknown)} (splits)")
        check_positive("is", splits=splits)
        self.splits = splits
        super().__init__(extractor)

    def reset(self) -> None:
        self.logits: list[torch.Tensor] = []

    def _add(self, x, *, real):
        if not real:
            self.logits.append(x)

    def compute(self) -> dict[str, float]:
        if not self.logits:
            raise ZooError("is: no generated images were given")
        mean, std = inception_score(torch.cat(self.logits), self.splits)
        return {"is": mean, "is_std": std}
