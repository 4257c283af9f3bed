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
    """The help text with its default; an unset (None) or empty default is not shown as ``[default: ]``,
    and a flag's default reads ``on``/``off`` (``--flip / --no-flip ... [default: False]`` made readers
    wonder which of the two spellings False meant)."""
    text = f.metadata.get("help", "")
    if default is None or default == "" or default == ():
        return text
    shown = ("on" if default else "off") if isinstance(default, bool) else _default_text(default)
    return f"{text}  [default: {shown}]"


def _declared_section(cls: type, name: str) -> str | None:
    """The ``HELP_SECTION`` of the class that declares field ``name`` (e.g. the GAN toolkit's
    ``GANOptions``; a subclass redefining the field makes it its own), so the options every GAN
    shares are listed apart from the model's own."""
    for base in cls.__mro__:
        if name in vars(base).get("__annotations__", {}):
            return vars(base).get("HELP_SECTION")
    return None


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

    Each option remembers its help section for :class:`SectionedCommand`: the field's entry in
    ``sections``, else the ``HELP_SECTION`` of the base class declaring it, else ``section``.
    """
    defaults = defaults or {}
    where = {name: title for title, names in (sections or {}).items() for name in names}
    for f in dataclasses.fields(cls):
        where.setdefault(f.name, _declared_section(cls, f.name) or section)
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
            out[-1].zoo_section = where[f.name]
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
        out[-1].zoo_section = where[f.name]
    return out


class SectionedCommand(click.Command):
    """A command whose ``--help`` lists options under headings, common ones described, the rest named.

    ``zoo train stackgan --help`` once described 73 options in 200 lines. Now each option sits under
    its heading (``zoo_section``, set by :func:`click_options`; none: "options") in ``order``; the
    options of the headings in ``full`` (the command's own and the model's) and those named in
    ``brief`` are described, the others of a heading are only named on a ``more:`` line, and
    ``--help-all`` describes every option. Names stay visible, so nothing has to be guessed, while
    the help of a model fits about two screens.
    """

    def __init__(self, *args: Any, order: tuple[str, ...] = (), full: tuple[str, ...] = ("options",),
                 brief: frozenset[str] = frozenset(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order, self.full, self.brief = order, full, brief
        self.params.append(click.Option(["--help-all"], is_flag=True, expose_value=False, is_eager=True,
                                        callback=_help_all, help="describe every option, not only the common ones"))

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        everything = ctx.meta.get("zoo_help_all", False)
        groups: dict[str, list[click.Parameter]] = {}
        for param in self.get_params(ctx):
            if param.get_help_record(ctx) is not None:
                groups.setdefault(getattr(param, "zoo_section", None) or "options", []).append(param)
        rank = {title: i for i, title in enumerate(("options", *self.order))}
        folded = False
        for title in sorted(groups, key=lambda t: rank.get(t, len(rank))):
            shown = [p for p in groups[title] if everything or title in self.full or p.name in self.brief]
            more = [p.opts[0] for p in groups[title] if p not in shown]
            with formatter.section(title):
                if shown:  # click refuses an empty definition list
                    formatter.write_dl([p.get_help_record(ctx) for p in shown])
                if more:  # wrapped by hand: click's wrapper breaks flags at hyphens ("--instance-" / "noise")
                    _write_names(formatter, "more: ", more)
                    folded = True
        if folded:
            formatter.write_paragraph()
            formatter.write_text(f"--help-all describes the options after 'more:' (`zoo info {self.name}` "
                                 "lists them all with types and defaults).")


def _write_names(formatter: click.HelpFormatter, label: str, names: list[str]) -> None:
    """``label`` then ``names`` filling the help's width, each name whole, continuation lines aligned."""
    indent = " " * formatter.current_indent
    width = max((formatter.width or 80) - formatter.current_indent - len(label), 20)
    lines: list[str] = []
    for name in names:
        if lines and len(lines[-1]) + 1 + len(name) <= width:
            lines[-1] += " " + name
        else:
            lines.append(name)
    for i, line in enumerate(lines):
        formatter.write(f"{indent}{label if i == 0 else ' ' * len(label)}{line}\n")


def _help_all(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        ctx.meta["zoo_help_all"] = True
        click.echo(ctx.get_help(), color=ctx.color)
        ctx.exit()


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
