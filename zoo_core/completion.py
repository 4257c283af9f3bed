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
    """Sampler names starting with ``incomplete``: those of SRC's model when SRC is a local run or saved
    model (``zoo sample runs/gan --sampler <TAB>`` offers ``latent``, not the diffusion samplers), else
    every registered one (a Hub repo is not fetched on a TAB)."""
    src = ctx.params.get("src") or next(iter(ctx.args), None)  # a TAB after --sampler leaves SRC unparsed
    names = _own_samplers(src) or _names("sampler")
    return [n for n in names if n.startswith(incomplete)]


def _own_samplers(src: Any) -> list[str]:
    try:
        from pathlib import Path

        from .plugins import registry
        from .runs import Run

        if not src or not Path(src).is_dir():
            return []
        name = Run(src).model_name() or Run(Path(src) / "final").model_name()
        return list(registry().model(name).samplers) if name else []
    except Exception:  # noqa: BLE001 - completion runs on every TAB: stay silent
        return []

