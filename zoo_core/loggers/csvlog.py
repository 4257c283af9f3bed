"""``--logger csv``: plain CSV files under ``RUN/logs/`` for spreadsheets and pandas; no extra library.

Long format (one ``step,name,value`` row per scalar) so a metric that appears later (an eval, a
second stage's losses) never changes the header. Non-finite values are written as ``nan``/``inf``,
which pandas and spreadsheets read as numbers. Images are not copied: they are in ``samples/``.
Health events go to ``health.csv`` (``step,kind,message,fix``), one row as each happens.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from ..health import HealthEvent
from .base import Logger, flatten


class CSVLogger(Logger):
    name = "csv"

    def __init__(self, run_dir: Path, run_name: str):
        super().__init__(run_dir, run_name)
        self.folder = self.run_dir / "logs"
        self.folder.mkdir(parents=True, exist_ok=True)

    def _append(self, file: str, header: list[str], rows: list[list[Any]]) -> None:
        path = self.folder / file
        new = not path.exists() or path.stat().st_size == 0
        with open(path, "a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(header)
            w.writerows(rows)

    def log_hparams(self, config: dict[str, Any]) -> None:
        rows = [[k, json.dumps(v) if not isinstance(v, str) else v] for k, v in flatten(config).items()]
        path = self.folder / "hparams.csv"
        path.unlink(missing_ok=True)  # the config of this (possibly resumed) run
        self._append("hparams.csv", ["name", "value"], rows)

    def log_scalars(self, step: int, scalars: dict[str, float]) -> None:
        self._append("scalars.csv", ["step", "name", "value"], [[step, k, float(v)] for k, v in scalars.items()])

    def log_histogram(self, step: int, tag: str, values: list[float]) -> None:
        if values:
            v = sorted(values)
            self._append("histograms.csv", ["step", "name", "count", "min", "median", "max"],
                         [[step, tag, len(v), v[0], v[len(v) // 2], v[-1]]])

    def log_text(self, step: int, tag: str, text: str) -> None:
        self._append("events.csv", ["step", "kind", "message"], [[step, tag, text]])

    def log_event(self, event: HealthEvent) -> None:
        self._append("health.csv", ["step", "kind", "message", "fix"],
                     [[event.step, event.kind, event.message, event.fix]])

    def log_final(self, metrics: dict[str, float]) -> None:
        self._append("final.csv", ["name", "value"], [[k, float(v)] for k, v in metrics.items()])
