"""Shell completion of names (models, samplers, presets) for click's completion support.

Enable it once per shell (see docs/cli.md): ``eval "$(_ZOO_COMPLETE=bash_source zoo)"``.
Completion must never fail loudly, so a registry that cannot load completes nothing.
"""

from __future__ import annotations

from typing import Any


def _names(kind: str) -> list[str]:
    try:
        from .plugins import registry

        return registry().names(kind)
    except Exception:  # noqa: BLE001 - completion runs on every TAB: stay silent
        return []


def complete_model(ctx: Any, param: Any, incomplete: str) -> list[str]:
    """Installed model names starting with ``incomplete``."""
    return [n for n in _names("model") if n.startswith(incomplete)]


def complete_sampler(ctx: Any, param: Any, incomplete: str) -> list[str]:
    """Registered sampler names starting with ``incomplete``."""
    return [n for n in _names("sampler") if n.startswith(incomplete)]

