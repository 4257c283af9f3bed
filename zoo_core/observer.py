"""What a person watching a training run sees, in one place: the start banner, the progress bar or
plain progress lines, health events, the experiment loggers, ``curves.png`` / ``report.html`` kept
current, and the closing summary.

The engine calls a handful of methods (``start``, ``progress``, ``record``, ``health``, ``grid``,
``evaluation``, ``finish``) so that training code stays about training.
"""

from __future__ import annotations

import contextlib
import math
import time
import weakref
from collections import Counter
from typing import Any

from rich.markup import escape

from .health import HealthEvent
from .progress import duration, make_progress


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def param_count(module) -> int:
    return sum(p.numel() for p in module.parameters())


class RunObserver:
    """Banner, progress, loggers and summary of one ``Engine.run_training`` call."""

    def __init__(self, engine):
        # a weak reference: the engine owns the observer, and a cycle would keep the engine (and the
        # run lock it holds) alive after a run until the garbage collector happens to run
        self.engine = weakref.proxy(engine)
        self.console = engine.console
        self.started = time.perf_counter()
        self.events: list[HealthEvent] = []
        self.last_event = ""
        self.last_grid: tuple[int, Any] | None = None
        self.writing = False  # records and loggers once start() made the run folder a run; start() catches up
        self.last_record: dict[str, Any] = {}
        self.evals: list[dict[str, Any]] = []
        self.loggers = None
        self.bar = self.task = None

    @property
    def main(self) -> bool:
        return self.engine.dist.main

    # ------------------------------------------------------------- start
    def start(self) -> None:
        """Open the loggers (fails early on a missing library) and print the banner."""
        from . import config as config_mod
        from .loggers import open_loggers

        e = self.engine
        if not self.main:
            return
        self.writing = True
        self.loggers = open_loggers(e.cfg.logger, e.run.out, e.run.out.name,
                                    warn=lambda msg: self.console.print(f"[yellow]warning:[/] {msg}", highlight=False))
        self.loggers.log_hparams({"model": e.spec.name, "config": config_mod.to_dict(e.model_cfg),
                                  "train": config_mod.to_dict(e.cfg), "data": config_mod.to_dict(e.data_cfg)})
        self.console.print(self.banner(), highlight=False, markup=False, soft_wrap=True)
        for event in self.events:  # seen while resuming, before the run folder was written to
            self._record(event)

    def banner(self) -> str:
        e = self.engine
        params = ", ".join(f"{name} {param_count(m) / 1e6:.2f}M" for name, m in e.trainer.modules.items())
        info = e.data_info
        data = f"{info.size} images"
        if info.num_classes:
            data += f", {info.num_classes} classes"
        if info.has_captions:
            data += ", captions"
        dtype = "fp32" if e.dtype is None else str(e.dtype).replace("torch.", "")
        lines = [
            f"zoo train {e.spec.name}: {e.cfg.steps} steps of {e.cfg.batch_size} images",
            f"  device     {e.device} ({e.cfg.device}), precision {dtype} ({e.cfg.precision})"
            + (f", {e.dist.world} processes" if e.dist.world > 1 else ""),
            f"  parameters {params}",
            f"  data       {e.data_cfg.data} ({data})",
            f"  run folder {e.run.out}" + (f" (resuming at step {e.run.step})" if e.run.step else ""),
            f"  resume     zoo train {e.spec.name} --out {e.run.out} --resume",
        ]
        return "\n".join(lines)

    # ---------------------------------------------------------- progress
    @contextlib.contextmanager
    def progress(self):
        """The training bar (rich on a terminal, plain lines every --progress-every seconds elsewhere)."""
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn

        e = self.engine
        columns = [TextColumn(f"[bold]{e.spec.name}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[speed]}"), TimeRemainingColumn(), TextColumn("{task.fields[losses]}"),
                   TextColumn("{task.fields[event]}", style="yellow", markup=False)]
        with make_progress(*columns, console=self.console, enabled=e.cfg.progress and self.main,
                           every=e.cfg.progress_every, unit="step", final_line=False) as bar:
            self.bar = bar
            self.task = bar.add_task(f"train {e.spec.name} step", total=e.cfg.steps, completed=e.run.step,
                                     speed="", losses="", event=self.last_event)
            try:
                yield self
            finally:
                self.bar = self.task = None

    def advance(self, step: int, done: int, elapsed: float) -> None:
        if self.bar is not None:
            rate = done * self.engine.cfg.batch_size / max(elapsed, 1e-9)
            self.bar.update(self.task, completed=step, speed=f"{rate:.3g} img/s")

    # ----------------------------------------------------------- records
    def record(self, record: dict[str, Any], histograms: dict[str, list[float]]) -> None:
        """A metrics.jsonl record was written: update the bar's fields and feed the loggers."""
        self.last_record = record
        scalars = {k: v for k, v in record.items()
                   if k not in ("step", "time") and isinstance(v, (int, float)) and not isinstance(v, bool)}
        losses = " ".join(f"{k}={_fmt(v)}" for k, v in scalars.items() if k.startswith("loss"))
        if self.evals:
            losses += " " + " ".join(f"{k}={_fmt(v)}" for k, v in self.evals[-1]["eval"].items())
        if self.bar is not None:
            self.bar.update(self.task, losses=losses.strip())
        if self.loggers:
            step = record["step"]
            self.loggers.log_scalars(step, {k: v for k, v in scalars.items() if math.isfinite(v)})
            for name, values in histograms.items():
                self.loggers.log_histogram(step, name, values)

    def health(self, event: HealthEvent) -> None:
        """A health event, the moment it happens: printed with its fix, written to metrics.jsonl as its own
        record, shown in the progress line until the next one, sent to every logger (main process only)."""
        if not self.main:
            return
        self.events.append(event)
        self.console.print(f"[yellow]warning:[/] step {event.step}: {escape(event.text)}", highlight=False)
        message = event.message if len(event.message) <= 100 else event.message[:97] + "..."
        self.last_event = f"| health: step {event.step} {event.kind}: {message}"
        if self.bar is not None:
            self.bar.update(self.task, event=self.last_event)
        if self.writing:
            self._record(event)
            self.refresh_report()  # events are rare (each kind once until it clears): the page lists it now

    def _record(self, event: HealthEvent) -> None:
        self.engine.run.folder.append_metrics(event.record())
        if self.loggers:
            self.loggers.log_event(event)

    def grid(self, step: int, path) -> None:
        self.last_grid = (step, path)
        if self.loggers and path is not None:
            import numpy as np
            from PIL import Image

            with Image.open(path) as im:
                self.loggers.log_image(step, "samples", np.asarray(im.convert("RGB")))
        self.refresh_report()

    def grid_at(self, step: int):
        """The path of the sample grid written at ``step`` in this run, or None."""
        return self.last_grid[1] if self.last_grid and self.last_grid[0] == step else None

    def evaluation(self, step: int, results: dict[str, Any]) -> None:
        self.evals.append({"step": step, "eval": results})
        if self.loggers:
            self.loggers.log_scalars(step, {f"eval/{k}": float(v) for k, v in results.items()
                                            if isinstance(v, (int, float)) and math.isfinite(v)})

    # -------------------------------------------------------------- end
    def refresh_report(self) -> None:
        """Rewrite curves.png and report.html (cheap: PIL and text); never fails the run."""
        from .report import write_report

        try:
            write_report([self.engine.run.out])
        except Exception as exc:  # noqa: BLE001 - a report is a courtesy, training is the job
            if "report" not in self.engine.run.warned:
                self.engine.run.warned.add("report")
                self.console.print(f"[yellow]warning:[/] could not write report.html ({exc})", highlight=False)

    def final_metrics(self) -> dict[str, float]:
        out = {k: v for k, v in self.last_record.items()
               if isinstance(v, float) and math.isfinite(v) and (k.startswith("loss") or k == "img_per_s")}
        if self.evals:
            out.update({f"eval/{k}": v for k, v in self.evals[-1]["eval"].items() if isinstance(v, (int, float))})
        return out

    def best_evals(self) -> dict[str, tuple[float, int]]:
        """Best value and its step per eval metric (lowest, except the Inception Score and precision/recall)."""
        best: dict[str, tuple[float, int]] = {}
        for rec in self.evals:
            for k, v in rec["eval"].items():
                if not isinstance(v, (int, float)) or not math.isfinite(v):
                    continue
                higher = k.lower().startswith(("is", "inception_score", "precision", "recall"))
                if k not in best or (v > best[k][0] if higher else v < best[k][0]):
                    best[k] = (v, rec["step"])
        return best

    def summary(self, final, grid, stopped: bool = False) -> str:
        e = self.engine
        out = e.run.out
        last = ", ".join(f"{k} {_fmt(v)}" for k, v in self.final_metrics().items()) or "none logged"
        took = f"{duration(time.perf_counter() - self.started)}; {len(self.events)} warning(s)"
        head = (f"stopped at step {e.run.step}; checkpoint written ({took})" if stopped
                else f"done: {e.run.step} steps in {took}")
        lines = [head,
                 f"  last       {last}"]
        if self.events:
            kinds = Counter(e.kind for e in self.events)
            lines.append("  health     " + ", ".join(f"{k} x{n}" for k, n in kinds.items())
                         + f" (last at step {self.events[-1].step}; all in report.html)")
        best = self.best_evals()
        if best:
            lines.append("  best       " + ", ".join(f"{k} {_fmt(v)} at step {s}" for k, (v, s) in best.items()))
        lines += [f"  metrics    {out / 'metrics.jsonl'}", f"  samples    {grid.parent if grid else out / 'samples'}"]
        if final is not None:
            lines.append(f"  model      {final}  (zoo sample {out} --n 16; zoo push {out} USER/REPO)")
        lines.append(f"  report     {out / 'report.html'}  (curves: {out / 'curves.png'})")
        if stopped:
            lines.append(f"  resume     zoo train {e.spec.name} --out {out} --resume")
        return "\n".join(lines)

    def finish(self, final=None, grid=None, stopped: bool = False) -> None:
        if not self.main:
            return
        if self.loggers:
            self.loggers.log_final(self.final_metrics())
        self.refresh_report()
        self.console.print(self.summary(final, grid, stopped), highlight=False, markup=False, soft_wrap=True)

    def close(self) -> None:
        if self.loggers:
            self.loggers.close()
            self.loggers = None
