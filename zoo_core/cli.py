"""The ``zoo`` command line. Start-up imports no torch: plugins register light specs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .errors import ZooError
from .options import click_options, describe, explicit


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr)


def _registry():
    from .plugins import registry

    return registry()


# ------------------------------------------------------------------ train
def _train_command(spec) -> click.Command:
    from .data import DataConfig
    from .train_config import TrainConfig

    model_cls = spec.load_config_class()
    train_defaults = getattr(model_cls, "TRAIN_DEFAULTS", {})
    presets = getattr(model_cls, "PRESETS", {})
    params: list[click.Parameter] = [
        click.Option(["--preset"], type=click.Choice(sorted(presets)) if presets else click.STRING, default=None,
                     help="a named recipe (see `zoo info NAME`); explicit flags override it"),
        click.Option(["--config", "config_file"], type=click.Path(dir_okay=False), default=None,
                     help="TOML or JSON file of options; explicit flags override it"),
    ]
    params += click_options(model_cls) + click_options(DataConfig, train_defaults)
    params += click_options(TrainConfig, train_defaults)

    def run(preset: str | None, config_file: str | None, **values: Any) -> None:
        from .config import layer, read_file
        from .engine import Engine

        if preset is not None and preset not in presets:
            raise ZooError(f"unknown preset {preset!r} for {spec.name} (available: {', '.join(presets) or 'none'})")
        layers: list[tuple[str, dict]] = [("the model's training defaults", dict(train_defaults))]
        out = values.get("out")
        saved = Path(out).expanduser() / "config.json" if out else None
        if saved and saved.is_file():
            rec = json.loads(saved.read_text())
            if rec.get("zoo_model") == spec.name:
                merged = {**rec.get("config", {}), **rec.get("data", {}), **rec.get("train", {})}
                merged.pop("resume", None)
                layers.append((str(saved), merged))
        if values.get("init"):  # fine-tuning: the source's architecture, unless flags say otherwise
            from .convert import init_config

            init = init_config(spec.name, values["init"])
            if init:
                layers.append((f"--init {values['init']}", init))
        if preset:
            layers.append((f"preset {preset}", presets[preset]))
        if config_file:
            layers.append((config_file, read_file(config_file)))
        layers.append(("the command line", explicit(values, [model_cls, DataConfig, TrainConfig])))
        cfgs = layer({"model": model_cls, "data": DataConfig, "train": TrainConfig}, layers)
        Engine(spec, cfgs["model"], cfgs["train"], cfgs["data"]).run_training()

    doc = f"Train {spec.name}: {spec.summary}"
    return click.Command(spec.name, params=params, callback=run, help=doc, short_help=spec.summary)


class TrainGroup(click.Group):
    """``zoo train NAME``: one sub-command per installed model, options built from its config."""

    def list_commands(self, ctx):
        return _registry().names("model")

    def get_command(self, ctx, name):
        return _train_command(_registry().model(name))


# ------------------------------------------------------------------ group
@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
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


@cli.command()
@click.argument("name")
def info(name: str) -> None:
    """A model's options (types, defaults, help), presets, samplers and paper."""
    from rich.table import Table

    from .data import DataConfig
    from .train_config import TrainConfig

    spec = _registry().model(name)
    cls = spec.load_config_class()
    defaults = getattr(cls, "TRAIN_DEFAULTS", {})
    con = _console()
    con.print(f"[bold]{spec.name}[/] ({spec.family}, conditioning: {spec.conditioning}) "
              f"from {spec.distribution} {spec.version}\n{spec.summary}")
    if spec.paper:
        con.print(f"paper: {spec.paper}")
    con.print(f"samplers: {', '.join(spec.samplers) or 'built in'}")
    for title, c, d in (("model options", cls, {}), ("data options", DataConfig, defaults),
                        ("training options", TrainConfig, defaults)):
        table = Table(title=title, title_justify="left")
        for col in ("option", "type", "default", "help"):
            table.add_column(col)
        for row in describe(c, d):
            table.add_row(*row)
        con.print(table)
    presets = getattr(cls, "PRESETS", {})
    if presets:
        table = Table(title="presets (--preset NAME)", title_justify="left")
        table.add_column("preset")
        table.add_column("settings")
        for pname, values in presets.items():
            table.add_row(pname, " ".join(f"--{k.replace('_', '-')} {v}" for k, v in values.items()))
        con.print(table)


@cli.command()
def plugins() -> None:
    """Installed plugin distributions, their hooks and load errors."""
    from rich.table import Table

    from .plugins import state

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


def _add_core_commands() -> None:
    from .commands import add_commands

    add_commands(cli)


_add_core_commands()


def _add_plugin_commands() -> None:
    from .plugins import state

    st = state()
    for info_ in st.plugins:
        if info_.error:
            continue
        module = st.manager.get_plugin(info_.name)
        fn = getattr(module, "register_commands", None)
        if fn is None:
            continue
        try:
            fn(cli=cli)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the CLI
            info_.error = f"register_commands: {exc}"


def main(argv: list[str] | None = None) -> None:
    """Entry point: user mistakes end in one line and exit status 2, never a traceback."""
    _add_plugin_commands()
    try:
        cli.main(args=argv, prog_name="zoo", standalone_mode=False)
    except ZooError as exc:
        from rich.markup import escape  # the message holds text from files, the Hub and the user

        _console(stderr=True).print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
