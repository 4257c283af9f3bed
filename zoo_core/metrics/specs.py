"""The core's metrics and feature extractors as registry specs, and kind-aware look-ups.

Nothing here imports torch: ``zoo_core.builtin_plugin`` calls :func:`register` from its
``register_metrics`` hook. Metrics (``MetricSpec(kind="metric")``) and feature extractors
(``MetricSpec(kind="extractor")``) share the registry's ``metric`` table, so look-ups filter by kind.

Extractor names may carry an argument and options: ``timm:resnet50?pretrained=0&size=224``,
``module:my_pkg.feats:Net``, ``random?dim=32&seed=1``. :func:`parse_name` splits them.
"""

from __future__ import annotations

from typing import Any

from ..errors import ZooError
from ..registry import MetricSpec

METRICS = [
    MetricSpec("fid", "Fréchet Inception Distance (Heusel et al. 2017); lower is better",
               "zoo_core.metrics.fid:FID"),
    MetricSpec("is", "Inception Score (Salimans et al. 2016), mean and std over splits; higher is better",
               "zoo_core.metrics.inception_score:InceptionScore"),
    MetricSpec("kid", "Kernel Inception Distance (Bińkowski et al. 2018), unbiased, cubic kernel; lower is better",
               "zoo_core.metrics.kid:KID"),
    MetricSpec("pr", "precision/recall (Kynkäänniemi et al. 2019) and density/coverage (Naeem et al. 2020)",
               "zoo_core.metrics.precision_recall:PrecisionRecall"),
]

EXTRACTORS = [
    MetricSpec("inception", "the standard FID Inception v3 (TF graph 2015-12-05): pool3 2048-d, 1008 logits",
               "zoo_core.metrics.inception:build", kind="extractor"),
    MetricSpec("timm", "any timm model, timm:NAME (pretrained weights; ?pretrained=0 for random init)",
               "zoo_core.metrics.extractors:build_timm", kind="extractor"),
    MetricSpec("random", "a seeded tiny random conv net: for tests and offline smoke runs only",
               "zoo_core.metrics.extractors:build_random", kind="extractor"),
    MetricSpec("module", "your own nn.Module: module:package.module:attr (a module, class or factory)",
               "zoo_core.metrics.extractors:build_module", kind="extractor"),
]


def register(register_fn) -> None:
    """Register the core's metrics and extractors (called from the core's ``register_metrics`` hook)."""
    for spec in METRICS + EXTRACTORS:
        register_fn(spec)


def parse_name(name: str) -> tuple[str, str | None, dict[str, str]]:
    """``"timm:resnet50?pretrained=0"`` -> ``("timm", "resnet50", {"pretrained": "0"})``."""
    head, _, query = name.partition("?")
    base, sep, arg = head.partition(":")
    opts: dict[str, str] = {}
    for part in filter(None, query.split("&")):
        key, eq, value = part.partition("=")
        if not eq or not key:
            raise ZooError(f"bad option {part!r} in {name!r}: expected KEY=VALUE (e.g. timm:resnet50?pretrained=0)")
        opts[key.strip()] = value.strip()
    return base.strip(), (arg.strip() or None) if sep else None, opts


def lookup(kind: str, name: str, registry=None) -> MetricSpec:
    """The spec of metric or extractor ``name`` (its base name, before any ``:`` or ``?``)."""
    if registry is None:
        from ..plugins import registry as get_registry

        registry = get_registry()
    return registry.get(kind, name)


def names(kind: str, registry=None) -> list[str]:
    if registry is None:
        from ..plugins import registry as get_registry

        registry = get_registry()
    return registry.names(kind)


def parse_value(text: str) -> Any:
    """``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"true"``/``"false"`` -> bool, anything else stays a string."""
    low = text.strip().lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_metric_options(items: list[str] | tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """``["kid.subsets=50", "pr.k=5"]`` -> ``{"kid": {"subsets": 50}, "pr": {"k": 5}}``."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, eq, value = item.partition("=")
        metric, dot, opt = key.partition(".")
        if not eq or not dot or not metric or not opt:
            raise ZooError(f"--option {item!r}: expected METRIC.KEY=VALUE, e.g. kid.subsets=50")
        out.setdefault(metric.strip(), {})[opt.strip().replace("-", "_")] = parse_value(value)
    return out
