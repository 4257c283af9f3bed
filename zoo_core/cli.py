"""The ``zoo`` command line. Start-up imports no torch: plugins register light specs."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from .errors import ZooError
from .options import SectionedCommand, click_options, explicit


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr)


def _registry():
    from .plugins import registry

    return registry()


# ------------------------------------------------------------------ train
def _train_command(spec) -> click.Command:
    from .data import DataConfig
    from .train_config import SECTIONS as TRAIN_SECTIONS
    from .train_config import TrainConfig

    model_cls = spec.load_config_class()
    train_defaults = getattr(model_cls, "TRAIN_DEFAULTS", {})
    presets = getattr(model_cls, "PRESETS", {})
    params: list[click.Parameter] = [
        click.Option(["--preset"], type=click.Choice(sorted(presets)) if presets else click.STRING, default=None,
                     help="a named recipe (see `zoo info NAME`); explicit flags override it"),
        click.Option(["--config", "config_file"], type=click.Path(dir_okay=False), default=None,
                     help="TOML or JSON file of options (a run's or saved model's config.json too); "
                          "explicit flags override it"),
        click.Option(["--print-config"], is_flag=True, default=False,
                     help="print the resolved options as TOML (for --config) and exit without training"),
    ]
    params += click_options(model_cls, train_defaults, section="model")
    params += click_options(DataConfig, train_defaults, section="data")
    params += click_options(TrainConfig, train_defaults, sections=TRAIN_SECTIONS)

    def run(preset: str | None, config_file: str | None, print_config: bool, **values: Any) -> None:
        from .training import left_to_data, resolve_with_choices, train

        options = explicit(values, [model_cls, DataConfig, TrainConfig])
        if print_config:
            from .config import to_toml

            cfgs, chosen = resolve_with_choices(spec, options, preset=preset, config=config_file,
                                                source="the command line")
            click.echo(to_toml(cfgs, {"model": left_to_data(chosen)}), nl=False)
            return
        train(spec, preset=preset, config=config_file, source="the command line", **options)

    doc = f"Train {spec.name}: {spec.summary}"
    return SectionedCommand(spec.name, params=params, callback=run, help=doc, short_help=spec.summary,
                            order=HELP_ORDER, full=("options", "model", CLASS_SECTION), brief=HELP_BRIEF)


#: ``zoo train NAME --help``: the headings in order; the model's own options are always described,
#: of the options every model (or every GAN) shares only these, the rest are named (``--help-all``).
CLASS_SECTION = "class conditioning (AC-GAN)"  # zoo_core.gan.acgan.ClassCondOptions.HELP_SECTION
HELP_ORDER = ("model", CLASS_SECTION, "GAN options", "data", "run", "optimisation", "logging and evaluation", "hardware")
HELP_BRIEF = frozenset({"z_dim", "loss", "lr_g", "lr_d", "data", "flip", "labels", "out", "init", "resume", "steps",
                        "seed", "batch_size", "grad_accum", "lr", "grad_clip", "ema", "sample_every",
                        "checkpoint_every", "eval_every", "logger", "device", "precision"})


class TrainGroup(click.Group):
    """``zoo train NAME``: one sub-command per installed model, options built from its config."""

    def list_commands(self, ctx):
        return _registry().names("model")

    def get_command(self, ctx, name):
        return _train_command(_registry().model(name))


# ------------------------------------------------------------------ group
class ZooGroup(click.Group):
    """``zoo --help`` lists each command with its whole first sentence, wrapped: click cuts it at the
    terminal's width with "...", which left "Convert SRC (a published checkpoint: file, folder or Hub repo...".
    """

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, cmd.get_short_help_str(limit=1000)) for name in self.list_commands(ctx)
                if (cmd := self.get_command(ctx, name)) is not None and not cmd.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=ZooGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="zoo-core", prog_name="zoo")
def cli() -> None:
    """zoo: train, sample, evaluate and share generative models."""


cli.add_command(TrainGroup("train", help="Train a model: zoo train NAME --data DIR [options]."))


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="print JSON for scripts")
@click.option("--pretrained", is_flag=True, help="list the published checkpoints the installed plugins can load")
def list_models(as_json: bool, pretrained: bool) -> None:
    """Installed models, from every installed plugin."""
    from .plugins import state

    if pretrained:
        from .convert_commands import list_pretrained

        return list_pretrained(as_json)

    st = state()
    specs = [st.registry.model(n) for n in st.registry.names("model")]
    if as_json:
        rows = [{"name": s.name, "family": s.family, "conditioning": s.conditioning, "summary": s.summary,
                 "distribution": s.distribution, "version": s.version, "samplers": list(s.samplers)} for s in specs]
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table(title="installed models")
    for col in ("name", "family", "conditioning", "plugin", "summary"):
        table.add_column(col)
    for s in specs:
        table.add_row(s.name, s.family, s.conditioning, f"{s.distribution} {s.version}", s.summary)
    con = _console()
    con.print(table if specs else "no models installed: pip install zoo-ddpm (or another zoo plugin)")
    broken = [p for p in st.plugins if p.error]
    if broken:
        con.print(f"[yellow]{len(broken)} plugin(s) failed to load; see `zoo plugins`[/]")
    if st.registry.clashes():
        con.print(f"[yellow]{len(st.registry.clashes())} name(s) claimed by two plugins; see `zoo plugins`[/]")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="print JSON for scripts")
def plugins(as_json: bool) -> None:
    """Installed plugin distributions, their hooks and load errors."""
    from rich.table import Table

    from .plugins import state

    if as_json:
        rows = [{"entry_point": p.name, "module": p.module, "distribution": p.distribution, "version": p.version,
                 "hooks": list(p.hooks), "error": p.error or None} for p in state().plugins]
        click.echo(json.dumps({"plugins": rows, "clashes": state().registry.clashes() + COMMAND_CLASHES}, indent=2))
        return
    table = Table(title="zoo plugins")
    for col in ("entry point", "distribution", "version", "hooks", "status"):
        table.add_column(col)
    broken = []
    for p in state().plugins:
        status = "[red]failed to load[/]" if p.error else "[green]ok[/]"
        table.add_row(f"{p.name} = {p.module}", p.distribution, p.version, ", ".join(p.hooks), status)
        if p.error:
            broken.append(p)
    con = _console()
    con.print(table)
    for p in broken:
        con.print(f"[red]{p.distribution} ({p.name}):[/] {p.error}", highlight=False, soft_wrap=True)
    from rich.markup import escape

    for line in state().registry.clashes() + COMMAND_CLASHES:  # plugin-given names: escaped
        con.print(f"[yellow]name clash:[/] {escape(line)}", highlight=False, soft_wrap=True)


def _add_core_commands() -> None:
    from .commands import add_commands

    add_commands(cli)


_add_core_commands()


def _add_plugin_commands() -> list[str]:
    """Add the commands plugins offered; a name taken by the core or by two plugins is refused (one line each)."""
    from collections import defaultdict

    from .plugins import state

    offers = defaultdict(list)
    for owner, cmd in state().commands:
        offers[cmd.name].append((owner, cmd))
    clashes = []
    for name, claims in sorted(offers.items()):
        who = " and ".join(sorted(o.distribution for o, _ in claims))
        if name in cli.commands and not any(cmd is cli.commands[name] for _, cmd in claims):
            clashes.append(f"command {name!r} of {who} is a core command; the core keeps it")
        elif len(claims) > 1:
            clashes.append(f"command {name!r} is registered by both {who}, so neither provides it; "
                           "uninstall one of them")
        else:
            cli.add_command(claims[0][1])
    return clashes


COMMAND_CLASHES: list[str] = []  # filled by main(); shown by `zoo plugins`


def _error_line(text: str, code: int) -> None:
    from rich.markup import escape  # the message holds text from files, the Hub and the user

    _console(stderr=True).print(f"[red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: user mistakes end in one line and exit status 2, never a traceback."""
    from .commands import warnings_as_lines

    try:
        with warnings_as_lines():
            COMMAND_CLASHES[:] = _add_plugin_commands()
            cli.main(args=argv, prog_name="zoo", standalone_mode=False)
    except ZooError as exc:
        _error_line(str(exc), exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.UsageError as exc:  # click's own four lines (usage, try, blank, Error:) made one
        text = exc.format_message()
        where = f" See `{exc.ctx.command_path} --help`." if exc.ctx else ""
        _error_line(text[:1].lower() + text[1:] + where, exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
