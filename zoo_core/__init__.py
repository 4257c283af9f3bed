"""zoo_core: the small core of the zoo (protocols, registry, plugins, engine, data, hub, CLI).

Heavy modules (torch) load on first use, so importing zoo_core and starting the CLI stay fast; the
public names below are still listed by ``dir(zoo_core)`` and ``help(zoo_core)``.

Example:
    >>> import zoo_core
    >>> "from_pretrained" in dir(zoo_core) and "create_model" in zoo_core.__all__
    True
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "from_pretrained": "zoo_core.hub",
    "save_pretrained": "zoo_core.hub",
    "push_to_hub": "zoo_core.hub",
    "create_model": "zoo_core.modeling",
    "generate_chunks": "zoo_core.generation",
    "ZooModelMixin": "zoo_core.modeling",
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
    "get_registry": "zoo_core.plugins:registry",  # not ``registry``: that name is the submodule
    "opt": "zoo_core.config",
    "train": "zoo_core.training",
    "Run": "zoo_core.runs",
    "load_run_config": "zoo_core.training",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, _, attr = _LAZY[name].partition(":")
        value = getattr(import_module(module), attr or name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'zoo_core' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)  # submodules stay importable (zoo_core.hub) but are not the public surface
