"""``zoo report RUN [RUN ...]``: ``curves.png`` and one self-contained ``report.html`` per run, or one
page overlaying several runs' curves to compare recipes.

The page loads nothing from the network (images are embedded as data: URIs, no scripts, no
external CSS) so it opens anywhere, from a laptop to an air-gapped cluster. The training engine
rewrites both files whenever it writes a sample grid and at the end, so they are current during a run.
Every piece of file text is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from .errors import ZooError
from .health import HealthEvent
from .plot import Series, plot_runs
from .runs import Run


@dataclass
class RunData:
    """What a report shows of one run folder."""

    path: Path
    config: dict[str, Any] = field(default_factory=dict)
    series: Series = field(default_factory=dict)
    events: list[HealthEvent] = field(default_factory=list)
    evals: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    grids: list[tuple[int, Path]] = field(default_factory=list)
    last: dict[str, Any] = field(default_factory=dict)


def load_run(path: str | Path) -> RunData:
    """Read a run folder's config.json, metrics.jsonl and samples/ (a missing piece is just empty)."""
    path = Path(path)
    if not path.is_dir():
        raise ZooError(f"{path} is not a run folder (expected the --out of `zoo train`)")
    folder = Run(path)
    if not (folder / Run.METRICS).is_file() and not (folder / Run.CONFIG).is_file():
        raise ZooError(f"{path} holds no config.json or metrics.jsonl: not a zoo run folder")
    run = RunData(path)
    try:
        run.config = folder.read_config() or {}
    except ZooError:  # a damaged config.json: the curves and samples are still worth showing
        run.config = {}
    for rec in folder.metrics():
        event = HealthEvent.from_record(rec)
        if event is not None:  # {"event": "health", ...}: its own record since health events have kinds
            if event not in run.events:  # steps recomputed after a resume report their events again
                run.events.append(event)
            continue
        step = int(rec.get("step", 0))
        warnings = rec.get("warnings")
        for msg in warnings if isinstance(warnings, list) else []:  # older runs: a list in the step's line
            old = HealthEvent.of(step, str(msg), kind="warning")
            if old not in run.events:
                run.events.append(old)
        if isinstance(rec.get("eval"), dict):
            run.evals.append((step, rec["eval"]))
            items = {f"eval/{k}": v for k, v in rec["eval"].items()}
        else:
            items = {k: v for k, v in rec.items() if k not in ("step", "time")}
            run.last = rec
        for k, v in items.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                run.series.setdefault(k, []).append((step, float(v)))
            elif v is None and k in (rec.get("nonfinite") or {}):
                run.series.setdefault(k, []).append((step, float("nan")))
    run.grids = folder.grids()
    return run


MAX_GRIDS = 100  # a 300k-step run has 600 grids; the page is rewritten during training and must stay light


def spaced(items: list, k: int) -> list:
    """All of ``items`` if there are at most ``k``, else ``k`` evenly spaced ones, first and last included."""
    if len(items) <= k:
        return list(items)
    return [items[round(i * (len(items) - 1) / (k - 1))] for i in range(k)]


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _table(rows: list[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


CSS = ("body{font-family:sans-serif;margin:1.5em;max-width:1200px}table{border-collapse:collapse;font-size:90%}"
       "th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}"
       ".strip{display:flex;overflow-x:auto;gap:8px}.strip figure{margin:0}.strip img{height:160px;"
       "image-rendering:pixelated}figcaption{font-size:80%;text-align:center}pre{background:#f4f4f4;padding:6px}"
       ".warn{color:#a15c00}")


def _events_table(events: list[HealthEvent]) -> str:
    head = "<tr><th>step</th><th>kind</th><th>what happened</th><th>try</th></tr>"
    rows = "".join(f"<tr class=warn><td>{e.step}</td><td>{html.escape(e.kind)}</td><td>{html.escape(e.message)}</td>"
                   f"<td>{html.escape(e.fix)}</td></tr>" for e in events)
    return f"<table>{head}{rows}</table>"


def _run_section(run: RunData) -> str:
    cfg = run.config
    model = cfg.get("zoo_model", "?")
    out = [f"<h2>{html.escape(str(run.path))} ({html.escape(str(model))})</h2>"]
    last = [(k, v) for k, v in run.last.items() if k not in ("time", "warnings", "nonfinite")]
    if last:
        out.append("<h3>Last metrics</h3>" + _table(last))
    if run.evals:
        step, results = run.evals[-1]
        out.append(f"<h3>Last evaluation (step {step})</h3>" + _table(list(results.items())))
    out.append(f"<h3>Health events ({len(run.events)})</h3>")
    out.append(_events_table(run.events) if run.events else "<p>none</p>")
    shown = spaced(run.grids, MAX_GRIDS)
    note = "" if len(shown) == len(run.grids) else f", {len(shown)} evenly spaced shown; all in samples/"
    out.append(f"<h3>Samples over time ({len(run.grids)} grids{note})</h3><div class=strip>")
    out += [f"<figure><img src='{_data_uri(p)}' alt='step {s}'><figcaption>step {s}</figcaption></figure>"
            for s, p in shown]
    out.append("</div>")
    q = html.escape(str(run.path))
    out.append("<h3>Commands</h3><pre>"
               f"zoo train {html.escape(str(model))} --out {q} --resume --steps N   # continue training\n"
               f"zoo sample {q} --n 16 --out samples.png\n"
               f"zoo eval {q} --metrics fid --n 2000\n"
               f"zoo push {q} USER/REPO</pre>")
    if cfg:
        rows = [(f"{section}.{k}", v) for section in ("config", "train", "data")
                for k, v in (cfg.get(section) or {}).items()]
        out.append("<details><summary>Configuration</summary>" + _table(rows) + "</details>")
    return "\n".join(out)


def render(runs: list[RunData], curves: Path | None, title: str) -> str:
    """The HTML page: the curves (overlaid for several runs), then one section per run."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"]
    if curves is not None and curves.is_file():
        parts.append(f"<h2>Curves</h2><img src='{_data_uri(curves)}' alt='training curves'>"
                     "<p>faint: raw values; bold: smoothed (EMA 0.8); amber lines: health events</p>")
    parts += [_run_section(r) for r in runs]
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(paths: list[str | Path], out: str | Path | None = None) -> Path:
    """Write curves.png and report.html; for one run into its folder, for several into ``out``."""
    runs = [load_run(p) for p in paths]
    if not runs:
        raise ZooError("name at least one run folder: zoo report RUN [RUN ...]")
    if out is None:
        if len(runs) > 1:
            raise ZooError("comparing runs needs --out FILE.html (each run keeps its own report.html)")
        out = runs[0].path / "report.html"
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ZooError(f"--out {out}: the report is an HTML file; give a name ending in .html")
    curves = out.with_name("curves.png" if len(runs) == 1 else out.stem + "-curves.png")
    labels = [r.path.name or str(r.path) for r in runs]
    plot_runs([(label, r.series) for label, r in zip(labels, runs)], curves,
              events=[e.step for r in runs for e in r.events])
    title = f"zoo run {labels[0]}" if len(runs) == 1 else "zoo runs: " + ", ".join(labels)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(render(runs, curves, title))
    tmp.replace(out)  # a browser refreshing mid-run never sees half a page
    return out


@click.command("report")
@click.argument("runs", nargs=-1, required=True, type=click.Path())
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="where to write the page (default RUN/report.html for one run; required for several)")
def report_command(runs: tuple[str, ...], out: str | None) -> None:
    """Rebuild curves.png and report.html for RUN, or compare several runs on one page."""
    path = write_report(list(runs), out)
    click.echo(f"wrote {path}")
