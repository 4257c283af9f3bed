"""Turning config dataclasses into click options and back (kept apart from the command bodies)."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal, get_args, get_origin

import click

from .config import _strip_optional, field_type, type_name


def _default_text(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


def click_options(cls: type, defaults: dict[str, Any] | None = None) -> list[click.Option]:
    """One option per field; every default is None so explicit flags can be told apart."""
    defaults = defaults or {}
    out = []
    for f in dataclasses.fields(cls):
        if f.metadata.get("cli") is False:
            continue
        tp, _ = _strip_optional(field_type(cls, f.name))
        flag = "--" + f.name.replace("_", "-")
        default = defaults.get(f.name, f.default)
        help_text = f"{f.metadata.get('help', '')}  [default: {_default_text(default)}]"
        if tp is bool:
            out.append(click.Option([f"{flag}/--no-{flag[2:]}", f.name], default=None, help=help_text))
            continue
        if get_origin(tp) is Literal:
            ctype: Any = click.Choice([str(a) for a in get_args(tp)])
        elif tp is int:
            ctype = click.INT
        elif tp is float:
            ctype = click.FLOAT
        else:
            ctype = click.STRING
        aliases = list(f.metadata.get("aliases", ()))  # e.g. PGGAN's --latent-dim for --z-dim
        multiple = bool(f.metadata.get("multiple"))  # repeatable (--logger a --logger b); () when not given
        out.append(click.Option([flag, *aliases, f.name], type=ctype, default=None, help=help_text,
                                metavar=type_name(field_type(cls, f.name)).upper(), multiple=multiple))
    return out


def explicit(params: dict[str, Any], classes: list[type]) -> dict[str, Any]:
    """The values the user actually typed (options left at None are not set)."""
    names = {f.name for cls in classes for f in dataclasses.fields(cls)}
    return {k: v for k, v in params.items() if k in names and v is not None and v != ()}


def describe(cls: type, defaults: dict[str, Any] | None = None) -> list[tuple[str, str, str, str]]:
    """(flag, type, default, help) rows for ``zoo info``."""
    defaults = defaults or {}
    rows = []
    for f in dataclasses.fields(cls):
        default = defaults.get(f.name, f.default)
        flags = " / ".join(["--" + f.name.replace("_", "-"), *f.metadata.get("aliases", ())])
        rows.append((flags, type_name(field_type(cls, f.name)),
                     _default_text(default), f.metadata.get("help", "")))
    return rows
