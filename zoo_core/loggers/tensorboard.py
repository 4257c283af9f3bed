"""``--logger tensorboard``: event files in ``RUN/tensorboard/`` (``tensorboard --logdir runs``).

Health events are TEXT entries tagged ``health/<kind>`` (the message, then the fix to try).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..health import HealthEvent
from .base import Logger, flatten, need


class TensorBoardLogger(Logger):
    name = "tensorboard"

    def __init__(self, run_dir: Path, run_name: str):
        super().__init__(run_dir, run_name)
        need("tensorboard", "tensorboard")
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(self.run_dir / "tensorboard"))
        self.hparams: dict[str, Any] = {}

    def log_hparams(self, config: dict[str, Any]) -> None:
        # hparams are written with the final metrics (TensorBoard's HPARAMS tab pairs them); the
        # full config is also a text entry, readable while the run is going.
        self.hparams = {k: v if isinstance(v, (int, float, str, bool)) else str(v)
                        for k, v in flatten(config).items()}
        self.writer.add_text("config", "```\n" + json.dumps(config, indent=2) + "\n```", 0)

    def log_scalars(self, step: int, scalars: dict[str, float]) -> None:
        for k, v in scalars.items():
            self.writer.add_scalar(k, float(v), step)

    def log_image(self, step: int, tag: str, image: Any) -> None:
        self.writer.add_image(tag, image, step, dataformats="HWC")

    def log_histogram(self, step: int, tag: str, values: list[float]) -> None:
        import numpy as np

        finite = [v for v in values if v == v and abs(v) != float("inf")]
        if finite:
            self.writer.add_histogram(tag, np.asarray(finite, dtype=np.float64), step)

    def log_text(self, step: int, tag: str, text: str) -> None:
        self.writer.add_text(tag, text, step)

    def log_event(self, event: HealthEvent) -> None:
        fix = f"\n\n**Try** {event.fix}" if event.fix else ""
        self.writer.add_text(f"health/{event.kind}", f"step {event.step}: {event.message}{fix}", event.step)
        self.writer.flush()  # a health event is worth seeing now, not at the next flush

    def log_final(self, metrics: dict[str, float]) -> None:
        for k, v in metrics.items():
            self.writer.add_scalar(f"final/{k}", float(v), 0)
        self.writer.add_hparams(self.hparams, {f"hparam/{k}": float(v) for k, v in metrics.items()}, run_name=".")

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()
