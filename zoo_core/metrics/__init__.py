"""Metrics for generative models: FID, Inception Score, KID, precision/recall (+ density/coverage).

Importing this package is cheap; torch loads with the first metric. See docs/metrics.md.

* :func:`evaluate` / :class:`Evaluator` - run metrics (by registry name) over a model and real data.
* :func:`build_extractor` - a feature extractor by name (``inception``, ``timm:NAME``, ``random``,
  ``module:pkg.mod:attr``).
* :func:`build_metric` - one streaming :class:`zoo_core.protocols.Metric` by name.
* :func:`frechet_distance` - the float64 Fréchet distance between two Gaussians.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "evaluate": "zoo_core.metrics.evaluator",
    "Evaluator": "zoo_core.metrics.evaluator",
    "build_extractor": "zoo_core.metrics.extractors",
    "Extractor": "zoo_core.metrics.extractors",
    "frechet_distance": "zoo_core.metrics.frechet",
    "GaussianStats": "zoo_core.metrics.frechet",
    "FID": "zoo_core.metrics.fid",
    "KID": "zoo_core.metrics.kid",
    "InceptionScore": "zoo_core.metrics.inception_score",
    "PrecisionRecall": "zoo_core.metrics.precision_recall",
    "FeatureMetric": "zoo_core.metrics.base",
    "save_stats": "zoo_core.metrics.stats",
    "load_stats": "zoo_core.metrics.stats",
}

__all__ = sorted(_LAZY) + ["build_metric"]


def build_metric(name: str, extractor: Any = None, *, model: Any = None, device: Any = None, seed: int = 0,
                 registry: Any = None, **options: Any) -> Any:
    """Metric ``name`` from the registry; ``extractor`` may be a name or an Extractor (default inception)."""
    from ..registry import load_object
    from .specs import lookup

    factory = load_object(lookup("metric", name, registry).factory)
    if getattr(factory, "needs", "images") == "features" and not hasattr(extractor, "describe"):
        from .extractors import build_extractor

        extractor = build_extractor(extractor or "inception", device=device, registry=registry)
    return factory(extractor=extractor, model=model, device=device, seed=seed, **options)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'zoo_core.metrics' has no attribute {name!r}")
