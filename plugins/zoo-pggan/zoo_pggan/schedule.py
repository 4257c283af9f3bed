"""The growth schedule: resolution, phase and fade-in alpha as a pure function of images shown.

Training starts with a stabilisation phase at the start resolution; every later resolution gets a
fade-in phase (alpha rising linearly from 0 to 1 over ``fade_images`` real images shown to D)
and then a stabilisation phase (alpha = 1) of ``stable_images``. The last resolution's
stabilisation phase never ends. Because the state depends on the image count alone, a run
resumed from a checkpoint (which stores the count) continues a fade exactly where it stopped.
Imports no torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class GrowthState:
    """Where training is: network ``level`` (0 is 4x4), its ``res``, ``phase`` and ``alpha``."""

    level: int
    res: int
    phase: str  # "fade" or "stable"
    alpha: float
    images: int  # real images shown to D so far
    phase_start: int  # the image count at which this phase began


@dataclass(frozen=True)
class Phase:
    level: int
    kind: str
    start: int
    end: int | None  # None: the open-ended last phase


@dataclass(frozen=True)
class GrowthSchedule:
    """Growth from ``start_res`` to ``res`` with phase lengths counted in real images."""

    start_res: int
    res: int
    fade_images: int
    stable_images: int

    @property
    def start_level(self) -> int:
        return int(math.log2(self.start_res)) - 2

    @property
    def final_level(self) -> int:
        return int(math.log2(self.res)) - 2

    def phases(self) -> list[Phase]:
        """Every phase in order; the last one has ``end=None``."""
        out: list[Phase] = []
        t = 0

        def add(level: int, kind: str, length: int) -> None:
            nonlocal t
            if length > 0:
                out.append(Phase(level, kind, t, t + length))
                t += length

        add(self.start_level, "stable", self.stable_images)
        for level in range(self.start_level + 1, self.final_level + 1):
            add(level, "fade", self.fade_images)
            add(level, "stable", self.stable_images)
        out.append(Phase(self.final_level, "stable", t, None))
        if len(out) > 1 and out[-2].level == self.final_level and out[-2].kind == "stable":
            last = out.pop()
            out[-1] = Phase(last.level, "stable", out[-1].start, None)
        return out

    def at(self, images: int) -> GrowthState:
        """The state after ``images`` real images have been shown."""
        if images < 0:
            raise ValueError(f"images shown must be >= 0, got {images}")
        for p in self.phases():
            if p.end is None or images < p.end:
                alpha = 1.0
                if p.kind == "fade":
                    alpha = min(1.0, (images - p.start) / (p.end - p.start))
                return GrowthState(p.level, 4 * 2**p.level, p.kind, alpha, images, p.start)
        raise AssertionError("unreachable: the last phase is open-ended")

    def total_growth_images(self) -> int:
        """Images shown before the final resolution's open-ended stabilisation phase."""
        return self.phases()[-1].start

    def table(self) -> list[tuple[int, str, int, int | None]]:
        """(res, phase, first image, end image or None) rows, for docs and ``zoo info``-style views."""
        return [(4 * 2**p.level, p.kind, p.start, p.end) for p in self.phases()]
