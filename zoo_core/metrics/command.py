"""``zoo eval``: score a model or a folder of generated images against real data."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..completion import complete_sampler
from ..errors import ZooError
from ..progress import every_option


def _list_table() -> None:
    from rich.console import Console
    from rich.table import Table

    from ..plugins import registry

    reg = registry()
    table = Table(title="metrics (--metrics) and feature extractors (--extractor)")
    for col in ("kind", "name", "plugin", "summary"):
        table.add_column(col)
    for spec in reg.specs("extractor") + reg.specs("metric"):
        table.add_row(spec.kind, spec.name, f"{spec.distribution} {spec.version}", spec.summary)
    Console().print(table)


def _show(results: dict, stderr: bool = False) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="zoo eval", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in results["metrics"].items():
        table.add_row(key, f"{value:.4f}")
    con = Console(stderr=stderr)
    con.print(table)
    ext = results.get("extractor")
    if ext:
        con.print(f"extractor {ext['name']} (weights {ext['weights_hash']}, resize {ext['resize']})", highlight=False)
    con.print(f"{results['n_fake']} generated, {results['n_real'] or 0} real images at {results['res']}px",
              highlight=False)
    how = results.get("sampling")
    if how:
        steps = f", {how['steps']} steps" if how.get("steps") else ""
        con.print(f"sampled with {escape(str(how['sampler']))}{steps}", highlight=False)
    for note in results.get("notes", []):
        con.print(f"[yellow]note:[/] {note}", highlight=False)


def results_path(out: str | None, force: bool) -> Path:
    """Where ``zoo eval`` writes its JSON: the default ``results.json`` is numbered when taken, an explicit
    ``--out`` that exists needs ``--force`` (no earlier result is lost silently)."""
    if out is None:
        path, i = Path("results.json"), 0
        while path.exists():
            i += 1
            path = Path(f"results-{i}.json")
        return path
    path = Path(out).expanduser()
    if path.is_dir():
        raise ZooError(f"--out {out} is a folder: give a file name, e.g. --out {Path(out) / 'results.json'}")
    if path.exists() and not force:
        raise ZooError(f"--out {out} exists: pass --force to overwrite it, or choose another --out")
    return path


@click.command("eval")
@click.argument("src", required=False)
@click.option("--data", default=None, help="real images: a folder (any depth) or builtin:NAME")
@click.option("--metrics", default="fid", show_default=True, help="comma-separated metric names (see --list)")
@click.option("--n", "n", type=click.IntRange(min=1), default=None,
              help="generated images to score [default: 10000 from a model; all images of a folder]")
@click.option("--n-real", type=click.IntRange(min=1), default=None,
              help="real images to use [default: as many as generated, at most all]")
@click.option("--extractor", default="inception", show_default=True,
              help="feature extractor: inception, timm:NAME[?pretrained=0], random, module:pkg.mod:attr")
@click.option("--weights", type=click.Path(dir_okay=False), default=None,
              help="extractor weights file (.safetensors or a plain torch state dict)")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--stats", type=click.Path(dir_okay=False), default=None,
              help="cached real statistics (from --save-stats; or a pytorch-fid .npz for FID)")
@click.option("--save-stats", type=click.Path(dir_okay=False), default=None,
              help="write the real statistics to this .safetensors file for later --stats")
@click.option("--crop-border", is_flag=True, help="crop uniform borders (white padding) from every image first")
@click.option("--res", type=click.IntRange(min=8, max=2048), default=None,
              help="resolution of the real images [default: that of the generated ones]")
@click.option("--option", "-o", "options", multiple=True, metavar="METRIC.KEY=VALUE",
              help="metric option, repeatable: kid.subsets=50, is.splits=10, pr.k=5")
@click.option("--out", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="JSON results file [default: results.json, numbered results-N.json if taken]; - writes the JSON "
                   "to stdout instead of the table")
@click.option("--force", is_flag=True, help="overwrite an existing --out file")
@click.option("--json", "as_json", is_flag=True, help="print the JSON results to stdout (the table goes to stderr)")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="auto", show_default=True)
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True, help="data loader workers")
@click.option("--sampler", default=None, shell_complete=complete_sampler,
              help="sampler of the model (see `zoo info NAME`)")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="sampling steps (diffusion models)")
@click.option("--revision", default=None, help="Hub revision when SRC is a repo id")
@click.option("--trust-code", is_flag=True, help="let SRC's config import the code it names (trust its author)")
@click.option("--list", "list_", is_flag=True, help="list the installed metrics and extractors, then exit")
@every_option
def eval_command(src, data, metrics, n, n_real, extractor, weights, batch_size, stats, save_stats, crop_border,
                 res, options, out, as_json, seed, device, workers, sampler, steps, revision, list_,
                 trust_code=False, force=False):
    """Score SRC (a run folder, a saved-model folder, a Hub repo id, or a folder of generated images)
    against real images: zoo eval ./runs/ddpm-x --data ~/celeba --metrics fid,kid,pr --n 10000"""
    if list_:
        _list_table()
        return
    if not src:
        raise ZooError("zoo eval needs SRC: a run folder, a saved-model folder, a repo id or a folder of images")
    from ..data import folder_of, require_folder
    from ..device import pick_device
    from .evaluator import Evaluator
    from .images import open_src
    from .specs import parse_metric_options

    path = None if out == "-" else results_path(out, force)  # decided before an hour of sampling, not after
    folder = folder_of(data) if data else None
    if folder is not None:
        require_folder(folder)  # before any weights are looked for
    device = pick_device(device or "auto")
    target = open_src(src, device=device, revision=revision, trust_code=trust_code)  # a typo before any weights
    ev = Evaluator(metrics, extractor=extractor, weights=weights, data=data, n_real=n_real, stats=stats,
                   device=device, batch_size=batch_size, seed=seed, crop_border=crop_border,
                   metric_options=parse_metric_options(options), workers=workers)
    is_model = not isinstance(target, Path)
    if is_model and n is None:
        n = 10_000
    gen_kwargs = {k: v for k, v in {"sampler": sampler, "steps": steps}.items() if v is not None}
    if gen_kwargs and not is_model:
        raise ZooError("--sampler/--steps apply to models; SRC is a folder of images")
    results = ev(target, n, save_stats=save_stats, gen_kwargs=gen_kwargs, res=res, progress=True)
    results = {"src": str(src), "data": data, **results}
    if is_model:  # how the images were drawn, defaults resolved: a score means little without it
        from ..generation import sampling_used

        sampling = sampling_used(target, sampler, steps)
        if any(v is not None for v in sampling.values()):
            results["sampling"] = sampling
    to_stdout = as_json or out == "-"
    _show(results, stderr=to_stdout)  # stdout then holds the JSON only, for `| jq`
    text = json.dumps(results, indent=2) + "\n"
    if to_stdout:
        click.echo(text, nl=False)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        click.echo(f"wrote {path}", err=to_stdout)
    if save_stats:
        click.echo(f"wrote real statistics to {save_stats}", err=to_stdout)
