"""Plugin discovery: entry points in the group ``zoo`` feed a pluggy manager feeding the registry.

Every hook (``register_commands`` included) is called through pluggy, one plugin at a time, so what
each plugin offers is known. A plugin that fails to import or in any hook is recorded with its error
and keeps nothing registered; the CLI keeps working and ``zoo plugins`` shows what went wrong. Two
plugins claiming one name is settled by :class:`~zoo_core.registry.Registry` and shown by ``zoo plugins``.
"""

from __future__ import annotations

import functools
import os
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from .errors import ZooError
from .registry import Registry

GROUP = "zoo"
HOOKS = tuple(name for name, fn in vars(hookspecs).items() if hasattr(fn, "zoo_spec"))  # from the specs themselves


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
    """The loaded plugins: the pluggy manager, the registry they filled and the commands they added."""

    manager: pluggy.PluginManager
    registry: Registry
    plugins: list[PluginInfo]
    commands: list[tuple[PluginInfo, Any]] = field(default_factory=list)  # (owner, click.Command)


def _entry_points() -> list[metadata.EntryPoint]:
    return sorted(metadata.entry_points(group=GROUP), key=lambda ep: ep.name)


def _one_line(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]


def _call_hooks(manager: pluggy.PluginManager, module: Any) -> tuple[list[Any], list[Any]]:
    """Call every hook of ``module`` alone through pluggy; returns (specs, click commands) it offered.

    Nothing reaches the registry here: the caller commits the plugin's offers only if every hook
    succeeded, so a plugin that fails half-way leaves nothing registered.
    """
    import click

    specs: list[Any] = []
    group = click.Group("plugin")
    others = [p for p in manager.get_plugins() if p is not module]
    offers = {"register": specs.append, "cli": group}
    for hook in HOOKS:
        caller = manager.subset_hook_caller(hook, remove_plugins=others)
        caller(**{arg: offers[arg] for arg in getattr(manager.hook, hook).spec.argnames})
    return specs, list(group.commands.values())


def preferences(text: str | None = None) -> dict[str, str]:
    """``ZOO_PREFER="ddpm=zoo-ddpm-fast,latent=zoo-core"``: who keeps a name two plugins claim."""
    text = os.environ.get("ZOO_PREFER", "") if text is None else text
    out = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, dist = item.partition("=")
        if not sep or not name.strip() or not dist.strip():
            raise ZooError(f"ZOO_PREFER: expected NAME=DISTRIBUTION items separated by commas, got {item!r}")
        out[name.strip()] = dist.strip()
    return out


def load(entry_points: list | None = None, prefer: dict[str, str] | None = None) -> PluginState:
    """Load every plugin (or the given entry points) and build a fresh registry.

    ``prefer`` (default: from ``ZOO_PREFER``) names the distribution that keeps a name several claim.
    """
    manager = pluggy.PluginManager("zoo")
    manager.add_hookspecs(hookspecs)
    state = PluginState(manager, Registry(preferences() if prefer is None else prefer), [])
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
        state.plugins.append(info)
        module = None
        try:
            module = loader()
            manager.register(module, name=info.name)
            info.hooks = sorted(h.name for h in manager.get_hookcallers(module) or [])
            specs, commands = _call_hooks(manager, module)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the CLI
            info.error = _one_line(exc)
            if module is not None and manager.is_registered(module):
                manager.unregister(module)
            continue
        for spec in specs:
            state.registry.add(spec, info.distribution, info.version)
        state.commands += [(info, cmd) for cmd in commands]
    return state


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
    """The process-wide registry of everything the installed plugins provide (loaded on first use).

    Returns:
        The :class:`~zoo_core.registry.Registry`; ``names(kind)`` lists, ``model(name)`` etc. look up.

    Example:
        >>> from zoo_core import get_registry
        >>> "ddpm" in get_registry().names("model")
        True
    """
    return state().registry
