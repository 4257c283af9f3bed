"""Progress a person can follow wherever the output goes.

On a terminal, a rich progress bar. Anywhere else (``nohup``, CI, a notebook's log, ``| tee``) a
live bar prints nothing useful, so :class:`LineProgress` stands in for it: the same small API
(``add_task`` / ``advance`` / ``update``, a context manager) printing one plain line every N seconds
(``--progress-every``, or the ``ZOO_PROGRESS_EVERY`` environment variable for every command;
default 30) with the count, the rate, the ETA and the task's text fields (losses, the last health event).
``zoo train``, ``zoo sample`` and ``zoo eval`` all get their bars from :func:`make_progress`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from .errors import ZooError

DEFAULT_EVERY = 30.0
ENV_EVERY = "ZOO_PROGRESS_EVERY"


_override: list[float] = []  # set by a command's --progress-every


def default_every() -> float:
    """Seconds between plain progress lines: the command's ``--progress-every``, ``$ZOO_PROGRESS_EVERY`` or 30."""
    if _override:
        return _override[-1]
    raw = os.environ.get(ENV_EVERY)
    if raw is None or raw == "":
        return DEFAULT_EVERY
    try:
        value = float(raw)
    except ValueError:
        raise ZooError(f"{ENV_EVERY}={raw!r} is not a number of seconds; set it like {ENV_EVERY}=30") from None
    if value < 0:
        raise ZooError(f"{ENV_EVERY} must be >= 0 seconds, got {raw}")
    return value


def duration(seconds: float | None) -> str:
    """``42s``, ``5m07s``, ``2h03m``; ``?`` when unknown."""
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "?"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


class _Task:
    def __init__(self, description: str, total: float | None, completed: float, fields: dict[str, Any], now: float):
        self.description, self.total, self.completed, self.fields = description, total, completed, fields
        self.start_completed, self.started = completed, now
        self.printed_at, self.printed_completed = now, completed


class LineProgress:
    """A stand-in for ``rich.progress.Progress`` off a terminal: plain lines every ``every`` seconds.

    ``every=0`` prints on every update (used by tests). A last line is printed on exit for tasks
    that moved since their last line, so a short job still says it finished and how fast.
    """

    def __init__(self, console, every: float | None = None, clock: Callable[[], float] = time.monotonic,
                 unit: str = "it", final_line: bool = True):
        self.console, self.clock, self.unit, self.final_line = console, clock, unit, final_line
        self.every = default_every() if every is None else float(every)
        self.tasks: list[_Task] = []

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.final_line and exc[0] is None:
            for i, task in enumerate(self.tasks):
                if task.completed != task.printed_completed:
                    self._print(i)

    def add_task(self, description: str, total: float | None = None, completed: float = 0, **fields: Any) -> int:
        self.tasks.append(_Task(description, total, completed, dict(fields), self.clock()))
        return len(self.tasks) - 1

    def advance(self, task_id: int | None, advance: float = 1) -> None:
        if task_id is not None:
            self.update(task_id, advance=advance)

    def update(self, task_id: int | None, *, completed: float | None = None, advance: float | None = None,
               total: float | None = None, description: str | None = None, **fields: Any) -> None:
        if task_id is None:
            return
        task = self.tasks[task_id]
        if completed is not None:
            task.completed = completed
        if advance:
            task.completed += advance
        if total is not None:
            task.total = total
        if description is not None:
            task.description = description
        task.fields.update(fields)
        if self.clock() - task.printed_at >= self.every and task.completed != task.printed_completed:
            self._print(task_id)

    def line(self, task_id: int) -> str:
        """The plain line for one task: ``desc 150/1500 (10%) 2.5 it/s ETA 9m00s [fields]``."""
        task = self.tasks[task_id]
        elapsed = max(self.clock() - task.started, 1e-9)
        done = task.completed - task.start_completed
        rate = done / elapsed
        count = f"{task.completed:g}/{task.total:g}" if task.total else f"{task.completed:g}"
        parts = [task.description, count]
        if task.total:
            parts.append(f"({100 * task.completed / task.total:.0f}%)")
        speed = task.fields.get("speed") or f"{rate:.3g} {self.unit}/s"
        parts.append(str(speed))
        texts = [str(v) for k, v in task.fields.items() if k != "speed" and v not in (None, "")]
        if task.total:
            left = task.total - task.completed
            parts.append("done in " + duration(elapsed) if left <= 0 else
                         "ETA " + duration(left / rate if rate > 0 else None))
        else:
            parts.append(f"elapsed {duration(elapsed)}")
        return " ".join(parts + texts)

    def _print(self, task_id: int) -> None:
        task = self.tasks[task_id]
        task.printed_at, task.printed_completed = self.clock(), task.completed
        self.console.print(self.line(task_id), markup=False, highlight=False, soft_wrap=True)


def make_progress(*columns: Any, console=None, enabled: bool = True, every: float | None = None,
                  transient: bool = False, unit: str = "it", final_line: bool = True):
    """A rich ``Progress`` on a terminal, a :class:`LineProgress` elsewhere, a silent one if not ``enabled``.

    ``columns`` are the rich columns for the terminal bar (default: description, bar, count, ETA).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if console is None:
        from rich.console import Console

        console = Console(stderr=True)
    if enabled and not console.is_terminal:
        return LineProgress(console, every, unit=unit, final_line=final_line)
    columns = columns or (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    return Progress(*columns, console=console, disable=not enabled, transient=transient)


def every_option(command):
    """Add ``--progress-every SECONDS`` to a click command (``zoo sample``, ``zoo eval``)."""
    import click

    def remember(ctx, param, value):
        if value is not None:
            _override.append(float(value))
        return value

    return click.option("--progress-every", type=click.FloatRange(min=0), default=None, expose_value=False,
                        callback=remember, is_eager=True,
                        help="seconds between plain progress lines when not on a terminal  [default: 30]")(command)
