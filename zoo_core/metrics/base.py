"""What a metric plugged into ``zoo eval`` looks like, and the base class of the feature metrics.

A metric is registered as ``MetricSpec(name, summary, factory="pkg.mod:Factory")`` (kind
``"metric"``) from a plugin's ``register_metrics`` hook. The evaluator calls::

    metric = factory(extractor=Extractor | None, model=Generator | None, device=torch.device,
                     seed=int, **options)        # options from `zoo eval -o NAME.KEY=VALUE`

and reads these attributes of the returned object (class attributes are fine):

* ``needs``: ``"features"`` (gets ``update_features(feats, real=...)`` with the shared
  extractor's ``{"pool": [N, D], "logits": [N, K]}``: one extractor pass feeds every such metric),
  ``"images"`` (gets ``update(images, real=...)`` with raw [-1, 1] images, e.g. SWD) or ``"model"``
  (was built with ``model=``; gets only real images, e.g. NLL in bits/dim). Default ``"images"``.
* ``needs_real`` / ``needs_fake``: which sides it wants (defaults True / True; a ``"model"``
  metric wants real images only; the Inception Score wants generated images only).
* ``feature``: for ``needs="features"``, the extractor output it uses (``"pool"`` or ``"logits"``).
* optionally ``real_state() -> dict[str, Tensor]`` and ``load_real_state(dict)``: what
  ``--save-stats`` / ``--stats`` cache of the real side.

``compute()`` returns ``{name: float}``; ``reset()`` forgets both sides.
"""

from __future__ import annotations

from typing import Any

import torch

from ..errors import ZooError


class FeatureMetric:
    """A metric over extractor features; ``update(images)`` runs its own extractor, the evaluator
    calls ``update_features`` with features it computed once for every metric."""

    needs = "features"
    needs_real = True
    needs_fake = True
    feature = "pool"
    name = "metric"

    def __init__(self, extractor=None, **_: Any):
        self.extractor = extractor
        self.reset()

    def reset(self) -> None:
        raise NotImplementedError

    def update(self, images: torch.Tensor, *, real: bool) -> None:
        if self.extractor is None:
            from .extractors import build_extractor

            self.extractor = build_extractor("inception")
        self.update_features(self.extractor(images), real=real)

    def update_features(self, feats: dict[str, torch.Tensor], *, real: bool) -> None:
        if self.feature not in feats:
            what = getattr(self.extractor, "name", "this extractor")
            raise ZooError(f"{self.name} needs the extractor's {self.feature!r} output, which {what} does not "
                           f"give (it gives {', '.join(feats)})")
        self._add(feats[self.feature].detach().to("cpu", torch.float32), real=real)

    def _add(self, x: torch.Tensor, *, real: bool) -> None:
        raise NotImplementedError

    def compute(self) -> dict[str, float]:
        raise NotImplementedError


class FeatureBank(FeatureMetric):
    """Keeps the feature rows of both sides (float32, CPU): for KID and precision/recall."""

    def reset(self) -> None:
        self.real: list[torch.Tensor] = []
        self.fake: list[torch.Tensor] = []

    def _add(self, x, *, real):
        (self.real if real else self.fake).append(x)

    def features(self, real: bool) -> torch.Tensor:
        rows = self.real if real else self.fake
        side = "real" if real else "generated"
        if not rows:
            raise ZooError(f"{self.name}: no {side} images were given")
        out = torch.cat(rows).double()
        if not real and self.real and self.real[0].shape[1] != out.shape[1]:
            raise ZooError(f"{self.name}: the real features have {self.real[0].shape[1]} dimensions but this "
                           f"extractor gives {out.shape[1]}: they were computed with another extractor; recompute "
                           "them with --data DIR --save-stats FILE")
        return out

    def real_state(self) -> dict[str, torch.Tensor]:
        return {f"features.{self.feature}": torch.cat(self.real)} if self.real else {}

    def load_real_state(self, state: dict[str, torch.Tensor]) -> None:
        key = f"features.{self.feature}"
        if key not in state:
            raise ZooError(f"{self.name} needs the real features, which these statistics do not hold "
                           f"(save them with --save-stats while evaluating {self.name})")
        rows = state[key]
        if rows.ndim != 2 or not rows.is_floating_point() or not bool(torch.isfinite(rows).all()):
            raise ZooError(f"{self.name}: the saved real features are not finite [N, D] rows; recompute them with "
                           "--data DIR --save-stats FILE")
        self.real = [rows.to(torch.float32)]


OPTION_MAX = 100_000  # no metric option needs more; a typo's 10**9 subsets would loop for days


def check_positive(name: str, most: int = OPTION_MAX, **values: Any) -> None:
    """Each of ``values`` must be an integer from 1 to ``most`` (a one-line error naming the option)."""
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ZooError(f"{name}: {key} must be a positive integer, got {value!r}")
        if value > most:
            raise ZooError(f"{name}: {key} must be at most {most:,}, got {value:,}")
