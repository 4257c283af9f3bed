"""``--logger mlflow``: MLflow tracking, through ``mlflow`` itself.

The store is ``$MLFLOW_TRACKING_URI`` when set, else a local file store ``./mlruns`` (no server or
database needed; ``mlflow ui --backend-store-uri ./mlruns`` reads it; MLflow 3 calls that store
"maintenance mode", so ``MLFLOW_ALLOW_FILE_STORE=true`` is set for file stores). The experiment is ``$MLFLOW_EXPERIMENT_NAME`` or ``zoo``; the MLflow
run is named after the run folder. Histograms have no MLflow equivalent: their min/median/max are
logged as metrics. Health events are text artifacts ``health/step_<step>_<kind>.txt``, and the
latest one is the run's ``health.last`` tag, visible in the run list.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..health import HealthEvent
from .base import Logger, flatten, need

_BAD = re.compile(r"[^A-Za-z0-9_\-. /]")


def _key(name: str) -> str:
    return _BAD.sub("_", name)


class MLflowLogger(Logger):
    name = "mlflow"

    def __init__(self, run_dir: Path, run_name: str):
        super().__init__(run_dir, run_name)
        self.mlflow = need("mlflow", "mlflow", "mlflow-skinny")
        uri = os.environ.get("MLFLOW_TRACKING_URI")
        if not uri or uri.startswith("file:"):
            # MLflow 3 refuses its file store unless told: a local ./mlruns needing no server or
            # database is what this default is for, so say so for this process
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        self.mlflow.set_tracking_uri(uri or Path("mlruns").resolve().as_uri())
        self.mlflow.set_experiment(os.environ.get("MLFLOW_EXPERIMENT_NAME", "zoo"))
        self.run = self.mlflow.start_run(run_name=run_name)

    def log_hparams(self, config: dict[str, Any]) -> None:
        params = {_key(k): str(v)[:500] for k, v in flatten(config).items()}
        self.mlflow.log_params(params)

    def log_scalars(self, step: int, scalars: dict[str, float]) -> None:
        self.mlflow.log_metrics({_key(k): float(v) for k, v in scalars.items()}, step=step)

    def log_image(self, step: int, tag: str, image: Any) -> None:
        self.mlflow.log_image(image, artifact_file=f"{_key(tag)}/step_{step:08d}.png")

    def log_histogram(self, step: int, tag: str, values: list[float]) -> None:
        finite = sorted(v for v in values if v == v and abs(v) != float("inf"))
        if finite:
            k = _key(tag)
            self.mlflow.log_metrics({f"{k}.min": finite[0], f"{k}.median": finite[len(finite) // 2],
                                     f"{k}.max": finite[-1]}, step=step)

    def log_text(self, step: int, tag: str, text: str) -> None:
        self.mlflow.log_text(text, f"events/step_{step:08d}_{_key(tag)}.txt")

    def log_event(self, event: HealthEvent) -> None:
        self.mlflow.log_text(event.text + "\n", f"health/step_{event.step:08d}_{_key(event.kind)}.txt")
        self.mlflow.set_tag("health.last", f"step {event.step} {event.kind}: {event.message}"[:500])

    def log_final(self, metrics: dict[str, float]) -> None:
        self.mlflow.log_metrics({f"final.{_key(k)}": float(v) for k, v in metrics.items()})

    def close(self) -> None:
        self.mlflow.end_run()
