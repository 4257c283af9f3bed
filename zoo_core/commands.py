"""``zoo sample`` (and the other commands that load a trained model)."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import click

from .completion import complete_model, complete_sampler
from .errors import ZooError
from .outputs import MAX_GRID_IMAGES
from .progress import every_option


def _read_prompts(prompt: str | None, prompts_file: str | None) -> list[str] | None:
    if prompts_file:
        path = Path(prompts_file)
        if not path.exists() or path.is_dir():  # not is_file(): `--prompts <(...)` is a pipe
            raise ZooError(f"--prompts {path} is not a file of prompts")
        lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
        if not lines:
            raise ZooError(f"--prompts {path} holds no prompt (one per line)")
        return lines
    return [prompt] if prompt else None


def _prompts_from(prompts: list[str] | None):
    """``chunk_kwargs`` for :func:`~zoo_core.generation.generate_chunks`: image ``start + i`` keeps
    ``prompts[(start + i) % len(prompts)]``, the prompt it gets in one ``generate`` call."""
    if prompts is None:
        return None
    return lambda start: {"prompt": prompts[start % len(prompts):] + prompts[:start % len(prompts)]}


def _describe(meta: dict) -> str:
    """``dpm++ 20 steps``: the progress line of a folder being written (a GAN's: its sampler's name)."""
    steps = f" {meta['steps']} steps" if meta.get("steps") else ""
    return f"{meta['sampler']}{steps}" if meta.get("sampler") else "sampling"


@contextmanager
def warnings_as_lines():
    """Show Python warnings (a plugin's UserWarning) as one ``warning:`` line each on stderr, once per
    message, instead of a ``UserWarning`` with a source line; the text is escaped before rich prints it."""
    import warnings

    from rich.console import Console
    from rich.markup import escape

    con, seen = Console(stderr=True), set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = str(message)
        if text not in seen:
            seen.add(text)
            con.print(f"[yellow]warning:[/] {escape(text)}", highlight=False, soft_wrap=True)

    with warnings.catch_warnings():  # the filters stay as they are: only how a warning is shown changes
        warnings.showwarning = show
        yield


@click.command()
@click.argument("src")
@click.option("--n", "n", type=click.IntRange(min=1), default=16, show_default=True, help="number of images")
@click.option("--out", default=None,
              help="a .png/.jpg/.webp file for one grid (.gif with --interpolate), or a folder for one PNG per "
                   "image  [default: samples.png, numbered if it exists]")
@click.option("--force", is_flag=True, help="overwrite existing files at --out")
@click.option("--json", "as_json", is_flag=True, help="print the written files and their seeds as JSON")
@click.option("--sampler", default=None, shell_complete=complete_sampler,
              help="sampler name (see `zoo info NAME`); default: the model's first")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="sampling steps (diffusion models)")
@click.option("--seed", type=int, default=0, show_default=True, help="same seed, same images")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="images generated at once")
@click.option("--prompt", default=None, help="text prompt (text-to-image models)")
@click.option("--prompts", "prompts_file", type=click.Path(dir_okay=False), default=None,
              help="file of prompts, one per line")
@click.option("--class", "label", default=None, metavar="CLASS",
              help="class-conditional models: a class index or name; for several attributes "
                   "ATTRIBUTE=VALUE[,ATTRIBUTE=VALUE...] (the others drawn at random)")
@click.option("--truncation", type=click.FloatRange(min=0, min_open=True), default=None,
              help="GANs: resample latent entries beyond this many standard deviations (> 0; smaller: "
                   "less variety, higher fidelity)")
@click.option("--eta", type=click.FloatRange(min=0), default=None, help="DDIM eta (0: deterministic, 1: DDPM-like)")
@click.option("--interpolate", default=None, metavar="A,B",
              help="GANs: slerp between the latents of seeds A and B")
@click.option("--frames", type=click.IntRange(min=2, max=MAX_GRID_IMAGES), default=16, show_default=True,
              help="with --interpolate")
@click.option("-o", "--option", "options", multiple=True, metavar="KEY=VALUE",
              help="an option of this model's generate (e.g. -o stage=1 for stackgan); repeatable")
@click.option("--device", default="auto", show_default=True)
@click.option("--revision", default=None, help="Hub revision when SRC is a repo id")
@click.option("--trust-code", is_flag=True, help="let SRC's config import the code it names (trust its author)")
@every_option
def sample(src, n, out, force, as_json, sampler, steps, seed, batch_size, prompt, prompts_file, label, truncation,
           eta, interpolate, frames, options, device, revision, trust_code):
    """Draw images from SRC: a run folder, a saved-model folder or a Hub repo id (hf://owner/name)."""
    from .generation import generate_chunks, model_options, sampling_used
    from .hub import from_pretrained
    from .images import save_folder, save_gif, save_grid
    from .outputs import plan_output

    plan = plan_output(out, frames if interpolate else n, force=force, animation=bool(interpolate))
    model = from_pretrained(src, revision=revision, device=device, trust_code=trust_code)
    if label is not None and label.isdigit() and label not in getattr(model.config, "class_names", ()):
        label = int(label)  # an index (a class named by digits wins); other text is a name the model reads
    extra = {k: v for k, v in {"label": label, "truncation": truncation, "eta": eta}.items() if v is not None}
    extra.update(model_options(model, options))
    prompts = _read_prompts(prompt, prompts_file)
    if prompts is not None:
        extra["prompt"] = prompts
    meta = {"model": model.zoo_name, "seed": seed, **sampling_used(model, sampler, steps),
            "prompt": prompts, "class": label, "truncation": truncation, "eta": eta}
    if interpolate:
        if not hasattr(model, "interpolate"):
            raise ZooError(f"{model.zoo_name} does not support --interpolate (GAN models do)")
        try:
            a, b = (int(s) for s in interpolate.split(","))
        except ValueError:
            raise ZooError(f"--interpolate expects two seeds like 3,7, got {interpolate!r}") from None
        images = model.interpolate(a, b, frames, **extra)
        meta["interpolate"] = interpolate
        files = ([str(p) for p in save_folder(images, plan.path, meta=meta)] if plan.kind == "folder" else
                 [str(save_gif(images, plan.path) if plan.kind == "gif" else
                      save_grid(images, plan.path, nrow=frames, meta=meta))])
        count = len(images)
    elif plan.kind == "folder":  # written batch by batch: bounded memory, and a late failure keeps the rest
        files = []
        for start, images in generate_chunks(model, n, seed=seed, sampler=sampler, steps=steps,
                                             batch_size=batch_size, progress=not as_json,
                                             description=_describe(meta),
                                             chunk_kwargs=_prompts_from(extra.pop("prompt", None)), **extra):
            files += [str(p) for p in save_folder(images, plan.path, start=start, meta=meta)]
        count = n
    else:
        images = model.generate(n, seed=seed, sampler=sampler, steps=steps, batch_size=batch_size,
                                progress=not as_json, **extra)
        files, count = [str(save_grid(images, plan.path, meta=meta))], len(images)
    if as_json:
        summary = {"src": str(src), "model": model.zoo_name, "seed": seed, "n": count, "kind": plan.kind,
                   "files": [{"path": f, "seed": seed, "index": i} for i, f in enumerate(files)]
                   if plan.kind == "folder" else [{"path": files[0], "seed": seed, "images": count}]}
        if interpolate:
            summary["interpolate"] = [a, b]
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"wrote {count} image(s) to {plan.path}")


def model_info(name: str) -> dict:
    """What ``zoo info NAME --json`` prints: the spec, every option with type, default and help, presets.

    Presets are given as values and as pasteable flags.
    """
    from .config import to_dict
    from .data import DataConfig
    from .options import as_flags, describe
    from .plugins import registry
    from .train_config import TrainConfig

    spec = registry().model(name)
    cls = spec.load_config_class()
    defaults = getattr(cls, "TRAIN_DEFAULTS", {})
    options = {}
    for section, c, d in (("model", cls, defaults), ("data", DataConfig, defaults), ("train", TrainConfig, defaults)):
        options[section] = [{"flag": flag, "type": tp, "default": default, "help": text}
                            for flag, tp, default, text in describe(c, d)]
    presets = getattr(cls, "PRESETS", {})
    return {"name": spec.name, "family": spec.family, "conditioning": spec.conditioning, "summary": spec.summary,
            "paper": spec.paper, "distribution": spec.distribution, "version": spec.version,
            "samplers": list(spec.samplers), "defaults": to_dict(cls()) if _buildable(cls) else None,
            "options": options,
            "presets": {k: {"values": json.loads(json.dumps(v)), "flags": as_flags(v)} for k, v in presets.items()}}


def _buildable(cls: type) -> bool:
    try:
        cls()
    except Exception:  # noqa: BLE001 - a config with required fields has no defaults to show
        return False
    return True


@click.command()
@click.argument("name", shell_complete=complete_model)
@click.option("--json", "as_json", is_flag=True, help="print JSON for scripts")
def info(name: str, as_json: bool) -> None:
    """A model's options (types, defaults, help), presets (as flags to paste), samplers and paper."""
    data = model_info(name)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    con = Console()
    con.print(f"[bold]{escape(data['name'])}[/] ({escape(data['family'])}, conditioning: "
              f"{escape(data['conditioning'])}) from {escape(data['distribution'])} {escape(data['version'])}\n"
              f"{escape(data['summary'])}")
    if data["paper"]:
        con.print(f"paper: {escape(data['paper'])}")
    con.print(f"samplers: {escape(', '.join(data['samplers']) or 'built in')}")
    for section, title in (("model", "model options"), ("data", "data options"), ("train", "training options")):
        table = Table(title=title, title_justify="left")
        for col in ("option", "type", "default", "help"):
            table.add_column(col)
        for row in data["options"][section]:
            table.add_row(*(escape(str(row[k])) for k in ("flag", "type", "default", "help")))
        con.print(table)
    if data["presets"]:
        table = Table(title="presets (--preset NAME, or paste the flags)", title_justify="left")
        table.add_column("preset")
        table.add_column("flags")
        for pname, preset in data["presets"].items():
            table.add_row(escape(pname), escape(preset["flags"]))
        con.print(table)


def add_commands(cli: click.Group) -> None:
    """Attach the core's model-loading commands to the ``zoo`` group."""
    from .convert_commands import convert_command
    from .hub_commands import add_hub_commands
    from .metrics.command import eval_command

    cli.add_command(info)
    cli.add_command(sample)
    cli.add_command(eval_command)
    cli.add_command(convert_command)
    from .report import report_command

    cli.add_command(report_command)
    add_hub_commands(cli)
