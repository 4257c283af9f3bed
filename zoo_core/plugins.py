"""Plugin discovery: entry points in the group ``zoo`` feed a pluggy manager feeding the registry.

A plugin that fails to import or to register is recorded with its error instead of breaking the
CLI: ``zoo list`` keeps working and ``zoo plugins`` shows what went wrong.
"""

from __future__ import annotations

import functools
import traceback
from dataclasses import dataclass, field
from importlib import metadata

import pluggy

from . import hookspecs
from .registry import Registry

GROUP = "zoo"
HOOKS = ("register_models", "register_samplers", "register_metrics", "register_datasets", "register_importers",
         "register_pretrained", "register_loggers")


@dataclass
class PluginInfo:
    """One entry point as ``zoo plugins`` reports it."""

    name: str
    distribution: str
    version: str
    module: str
    hooks: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class PluginState:
    manager: pluggy.PluginManager
    registry: Registry
    plugins: list[PluginInfo]


def _entry_points() -> list[metadata.EntryPoint]:
    return sorted(metadata.entry_points(group=GROUP), key=lambda ep: ep.name)


def _one_line(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]


def load(entry_points: list | None = None) -> PluginState:
    """Load every plugin (or the given entry points) and build a fresh registry."""
    manager = pluggy.PluginManager("zoo")
    manager.add_hookspecs(hookspecs)
    registry = Registry()
    infos: list[PluginInfo] = []
    builtin = [("zoo-core", "zoo_core.builtin_plugin")]
    eps = _entry_points() if entry_points is None else entry_points
    for ep in [None] + list(eps):
        if ep is None:
            import importlib

            dist, modname = builtin[0]
            info = PluginInfo("core", dist, _version(dist), modname)
            loader = functools.partial(importlib.import_module, modname)
        else:
            dist = ep.dist.name if getattr(ep, "dist", None) else "?"
            info = PluginInfo(ep.name, dist, ep.dist.version if getattr(ep, "dist", None) else "?", ep.value)
            loader = ep.load
        infos.append(info)
        module = None
        try:
            module = loader()
            manager.register(module, name=info.name)
            info.hooks = sorted(h.name for h in manager.get_hookcallers(module) or [])
            for hook in HOOKS:
                impls = [i for i in getattr(manager.hook, hook).get_hookimpls() if i.plugin is module]
                for impl in impls:
                    impl.function(lambda spec, _d=info.distribution, _v=info.version: registry.add(spec, _d, _v))
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the CLI
            info.error = _one_line(exc)
            if module is not None and manager.is_registered(module):
                manager.unregister(module)
    return PluginState(manager, registry, infos)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "0+unknown"


@functools.lru_cache(maxsize=1)
def state() -> PluginState:
    """The process-wide plugin state, loaded once on first use."""
    return load()


def registry() -> Registry:
    return state().registry
