"""``zoo convert`` and ``zoo list --pretrained``: published checkpoints on the command line."""

from __future__ import annotations

import json

import click

from .errors import ZooError


@click.command("convert")
@click.argument("src")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="folder for the zoo saved model")
@click.option("--format", "format_", default=None,
              help="the source format when it cannot be detected (see `zoo list --pretrained`)")
@click.option("--push", "push", default=None, metavar="OWNER/NAME", help="also upload the result to this Hub repo")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE",
              help="importer option, e.g. the model flags of an improved-diffusion checkpoint (repeatable)")
def convert_command(src: str, out: str, format_: str | None, push: str | None, options: tuple[str, ...]) -> None:
    """Convert SRC (a published checkpoint: file, folder or Hub repo id) into a zoo saved model in --out."""
    from .convert import convert

    folder = convert(src, out, format=format_, push=push, **parse_options(options))
    click.echo(f"wrote {folder}" + (f" and pushed it to {push}" if push else ""))


def parse_options(items: tuple[str, ...]) -> dict[str, str]:
    """``KEY=VALUE`` strings as a dict (values stay strings; the importer coerces them)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ZooError(f"--option expects KEY=VALUE, got {item!r}")
        out[key.strip().replace("-", "_")] = value.strip()
    return out


def pretrained_rows() -> list[dict]:
    """Every published checkpoint the installed plugins declare (nothing is downloaded)."""
    from .plugins import registry

    table = registry().tables["pretrained"]
    keys = ("name", "model", "format", "source", "res", "dataset", "score", "paper", "license", "summary",
            "distribution")
    rows = []
    for name in sorted(table, key=lambda n: (table[n].model, n)):
        spec = table[name]
        rows.append({k: getattr(spec, k) for k in keys} | {"options": dict(spec.options)})
    return rows


def list_pretrained(as_json: bool) -> None:
    """Print the catalogue of published checkpoints as a table or JSON."""
    rows = pretrained_rows()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="published checkpoints (zoo sample NAME / zoo convert NAME --out DIR)")
    table.add_column("name", no_wrap=True)
    for col in ("model", "res", "dataset", "score", "license"):
        table.add_column(col)
    table.add_column("paper", no_wrap=True, overflow="ellipsis", max_width=40)
    for r in rows:
        table.add_row(*(escape(str(r[c] or "")) for c in ("name", "model", "res", "dataset", "score", "license",
                                                          "paper")))
    Console().print(table if rows else "no published checkpoints declared by the installed plugins")
