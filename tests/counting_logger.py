"""A logger backend for tests that records every call it receives (``Counting.calls``), registered
as ``--logger counting`` by the ``counting_logger`` fixture."""

from __future__ import annotations

from typing import Any, ClassVar

from zoo_core.loggers import Logger


class Counting(Logger):
    name = "counting"
    calls: ClassVar[list[tuple[str, Any]]] = []  # (method, step or payload), across instances

    def log_scalars(self, step, scalars):
        self.calls.append(("scalars", step))

    def log_image(self, step, tag, image):
        self.calls.append(("image", step))

    def log_text(self, step, tag, text):
        self.calls.append(("text", (step, tag, text)))

    def log_final(self, metrics):
        self.calls.append(("final", dict(metrics)))

    @classmethod
    def of(cls, method: str) -> list[Any]:
        return [payload for m, payload in cls.calls if m == method]
