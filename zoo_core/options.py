"""Turning config dataclasses into click options and back (kept apart from the command bodies)."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal, get_args, get_origin

import click

from .config import _strip_optional, field_type, type_name


def _default_text(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    if value is None:
        return "none"
    return str(value)


def _help(f: dataclasses.Field, default: Any) -> str:
    """The help text with its default; an unset (None) or empty default is not shown as ``[default: ]``."""
    text = f.metadata.get("help", "")
    if default is None or default == "" or default == ():
        return text
    return f"{text}  [default: {_default_text(default)}]"


def as_flags(values: dict[str, Any]) -> str:
    """Option values as flags one can paste after ``zoo train NAME``.

    Args:
        values: field name -> value (as in a preset or a run's config.json).

    Returns:
        One string: ``--channel-mults 1,2,2,2``, ``--flip`` / ``--no-flip``, ``--grad-clip none``;
        values with spaces or shell characters are quoted.

    Example:
        >>> as_flags({"channel_mults": (1, 2, 2, 2), "flip": True, "ema": False, "grad_clip": None,
        ...           "eval_metrics": "fid,kid", "prompt": "a red bird"})
        "--channel-mults 1,2,2,2 --flip --no-ema --grad-clip none --eval-metrics fid,kid --prompt 'a red bird'"
    """
    import shlex

    parts = []
    for name, value in values.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            parts.append(flag if value else "--no-" + flag[2:])
        else:
            parts.append(f"{flag} {shlex.quote(_default_text(value))}")
    return " ".join(parts)


def click_options(cls: type, defaults: dict[str, Any] | None = None, section: str | None = None,
                  sections: dict[str, tuple[str, ...]] | None = None) -> list[click.Option]:
    """One option per field; every default is None so explicit flags can be told apart.

    Each option remembers its help section (``section``, or the field's entry in ``sections``) for
    :class:`SectionedCommand`.
    """
    defaults = defaults or {}
    where = {name: title for title, names in (sections or {}).items() for name in names}
    out = []
    for f in dataclasses.fields(cls):
        if f.metadata.get("cli") is False:
            continue
        tp, optional = _strip_optional(field_type(cls, f.name))
        flag = "--" + f.name.replace("_", "-")
        default = defaults.get(f.name, f.default)
        help_text = _help(f, default)
        if tp is bool:
            out.append(click.Option([f"{flag}/--no-{flag[2:]}", f.name], default=None, help=help_text))
            out[-1].zoo_section = where.get(f.name, section)
            continue
        if optional:  # "none" sets it back to None; coerce() checks the rest and names the flag
            ctype: Any = click.STRING
        elif get_origin(tp) is Literal:
            ctype = click.Choice([str(a) for a in get_args(tp)])
        elif tp is int:
            ctype = click.INT
        elif tp is float:
            ctype = click.FLOAT
        else:
            ctype = click.STRING
        aliases = list(f.metadata.get("aliases", ()))  # e.g. PGGAN's --latent-dim for --z-dim
        metavar = type_name(tp).upper() + ("|none" if optional else "")
        multiple = bool(f.metadata.get("multiple"))  # repeatable (--logger a --logger b); () when not given
        out.append(click.Option([flag, *aliases, f.name], type=ctype, default=None, help=help_text,
                                metavar=metavar, multiple=multiple))
        out[-1].zoo_section = where.get(f.name, section)
    return out


class SectionedCommand(click.Command):
    """A command whose ``--help`` lists options under headings (model, data, optimisation, ...).

    An option's heading is its ``zoo_section`` attribute (set by :func:`click_options`); options
    without one are listed first, under "options".
    """

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        groups: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                groups.setdefault(getattr(param, "zoo_section", None) or "options", []).append(record)
        for title, rows in groups.items():
            with formatter.section(title):
                formatter.write_dl(rows)


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
