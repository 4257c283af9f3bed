"""``--logger wandb``: Weights & Biases, through ``wandb`` itself.

Offline unless told otherwise: the mode is ``$WANDB_MODE`` when set, else ``online`` when an API
key is configured (``$WANDB_API_KEY``) and ``offline`` otherwise, so a run never stops to ask for a
login. Offline runs land in ``RUN/wandb/`` and can be uploaded later with ``wandb sync``. The
project is ``$WANDB_PROJECT`` or ``zoo``. Health events are HTML panels keyed ``health/<kind>``;
their count is the run summary's ``health/events``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..health import HealthEvent
from .base import Logger, need


class WandbLogger(Logger):
    name = "wandb"

    def __init__(self, run_dir: Path, run_name: str):
        super().__init__(run_dir, run_name)
        self.wandb = need("wandb", "wandb")
        mode = os.environ.get("WANDB_MODE") or ("online" if os.environ.get("WANDB_API_KEY") else "offline")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.run = self.wandb.init(project=os.environ.get("WANDB_PROJECT", "zoo"), name=run_name,
                                   dir=str(self.run_dir), mode=mode,
                                   settings=self.wandb.Settings(console="off"))  # rich owns the terminal

    def log_hparams(self, config: dict[str, Any]) -> None:
        self.run.config.update(config, allow_val_change=True)

    def log_scalars(self, step: int, scalars: dict[str, float]) -> None:
        self.run.log({k: float(v) for k, v in scalars.items()}, step=step)

    def log_image(self, step: int, tag: str, image: Any) -> None:
        self.run.log({tag: self.wandb.Image(image)}, step=step)

    def log_histogram(self, step: int, tag: str, values: list[float]) -> None:
        finite = [v for v in values if v == v and abs(v) != float("inf")]
        if finite:
            self.run.log({tag: self.wandb.Histogram(finite)}, step=step)

    def log_text(self, step: int, tag: str, text: str) -> None:
        self.run.log({tag: self.wandb.Html(f"<pre>{_escape(text)}</pre>")}, step=step)

    def log_event(self, event: HealthEvent) -> None:
        fix = f"<p><b>Try</b> {_escape(event.fix)}</p>" if event.fix else ""
        panel = self.wandb.Html(f"<p>step {event.step}: {_escape(event.message)}</p>{fix}")
        self.run.log({f"health/{event.kind}": panel}, step=event.step)
        self.run.summary["health/events"] = self.run.summary.get("health/events", 0) + 1

    def log_final(self, metrics: dict[str, float]) -> None:
        self.run.summary.update({f"final/{k}": float(v) for k, v in metrics.items()})

    def close(self) -> None:
        self.run.finish()


def _escape(text: str) -> str:
    import html

    return html.escape(text)
