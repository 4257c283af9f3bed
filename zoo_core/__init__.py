"""zoo_core: the small core of the zoo (protocols, registry, plugins, engine, data, hub, CLI).

Heavy modules (torch) load on first use, so importing zoo_core and starting the CLI stay fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "from_pretrained": "zoo_core.hub",
    "save_pretrained": "zoo_core.hub",
    "push_to_hub": "zoo_core.hub",
    "ZooError": "zoo_core.errors",
    "ModelSpec": "zoo_core.registry",
    "SamplerSpec": "zoo_core.registry",
    "MetricSpec": "zoo_core.registry",
    "DatasetSpec": "zoo_core.registry",
    "Generator": "zoo_core.protocols",
    "Trainer": "zoo_core.protocols",
    "Sampler": "zoo_core.protocols",
    "Metric": "zoo_core.protocols",
    "ModelConfig": "zoo_core.protocols",
    "Phase": "zoo_core.protocols",
    "hookimpl": "zoo_core.hookspecs",
    "registry": "zoo_core.plugins",
    "opt": "zoo_core.config",
    "train": "zoo_core.training",
    "load_run_config": "zoo_core.training",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'zoo_core' has no attribute {name!r}")
