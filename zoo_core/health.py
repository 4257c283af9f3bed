"""Health events: the moments a training run may be going wrong, each with the fix to try.

A health event (a skipped non-finite step, a rollback, a gradient-norm alarm, D winning outright,
G's loss climbing, mode collapse, a resume on another number of processes) is one
:class:`HealthEvent`. The engine hands it to the run's observer, which prints it, writes it to
``metrics.jsonl`` as its own strict-JSON record the moment it happens::

    {"event": "health", "step": 120, "kind": "nonfinite", "message": "...", "fix": "...", "time": ...}

shows it in the progress line, lists it in ``report.html`` and sends it to every ``--logger``.

A trainer's ``health(logs)`` returns a list of ``str`` (the :class:`~zoo_core.protocols.Trainer`
protocol); returning :class:`HealthWarning` strings instead gives each one a kind and a separate fix
while staying a plain ``str`` for every caller that only prints it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

EVENT = "health"  # the value of the "event" key of a health record in metrics.jsonl
TRY = ". Try "  # how a warning's text joins its problem and its fix


def _join(message: str, fix: str) -> str:
    return f"{message}{TRY}{fix}" if fix else message


class HealthWarning(str):
    """A warning string that also carries ``kind`` (``"d_collapse"``, ``"mode_collapse"``...) and ``fix``.

    ``str(w)`` is the full one-line text, ``"<message>. Try <fix>"``, so code that treats health
    warnings as strings (printing, ``"mode collapse" in w``) keeps working unchanged.
    """

    message: str
    kind: str
    fix: str

    def __new__(cls, message: str, kind: str = "trainer", fix: str = "") -> HealthWarning:
        self = super().__new__(cls, _join(message, fix))
        self.message, self.kind, self.fix = message, kind, fix
        return self

    def prefixed(self, prefix: str) -> HealthWarning:
        """The same warning with ``prefix`` before its message (``"Stage 2: "``), kind and fix kept."""
        return HealthWarning(prefix + self.message, self.kind, self.fix)


@dataclass(frozen=True)
class HealthEvent:
    """One health event at a training step; :meth:`record` is its metrics.jsonl line."""

    step: int
    kind: str
    message: str
    fix: str = ""

    @classmethod
    def of(cls, step: int, warning: str, kind: str | None = None) -> HealthEvent:
        """The event for a warning: a :class:`HealthWarning` keeps its kind and fix; a plain string gets
        ``kind`` (default ``"trainer"``) and the fix split off at its last ``". Try "``."""
        if isinstance(warning, HealthWarning):
            return cls(step, kind or warning.kind, warning.message, warning.fix)
        message, sep, fix = str(warning).rpartition(TRY)
        if not sep:
            message, fix = str(warning), ""
        return cls(step, kind or "trainer", message, fix)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> HealthEvent | None:
        """The event of a metrics.jsonl health record; None for any other record."""
        if record.get("event") != EVENT:
            return None
        return cls(int(record.get("step") or 0), str(record.get("kind") or "trainer"),
                   str(record.get("message") or ""), str(record.get("fix") or ""))

    @property
    def text(self) -> str:
        """One line: the message, then ``. Try <fix>`` when there is a fix."""
        return _join(self.message, self.fix)

    def record(self) -> dict[str, Any]:
        return {"event": EVENT, "step": self.step, "kind": self.kind, "message": self.message, "fix": self.fix,
                "time": round(time.time(), 3)}
