"""Early warnings for the ways GAN training fails, each with what to try.

The engine averages each step's logs over ``--log-every`` steps and hands the averages to
``trainer.health(logs)``; ``GanHealth.check`` keeps a short history of those averages and watches:

* D loss stuck near 0: D separates real from fake perfectly, so G's gradient vanishes;
* G loss rising in every record of a window: D is pulling away from G;
* generated images far less varied than real ones (``diversity`` ratio): mode collapse.

The last two are checked after a warm-up: early on D always pulls ahead for a while, and a fresh
G makes near-identical faint images.

A warning is given once when its condition starts, and again only after it has cleared.
The losses without targets (wgan-gp) have unbounded scores, so the loss-level checks are skipped
for them; the diversity check applies to every loss.
"""

from __future__ import annotations

import math
from collections import deque

import torch

from ..health import HealthWarning

TRY_D_WINS = ("--label-smoothing 0.9 (or random), --label-flip 0.05, --instance-noise 0.1, a lower --lr-d, "
              "--d-optimizer sgd, or --replay-size 256")
TRY_D_WINS_NO_REPLAY = ("--label-smoothing 0.9 (or random), --label-flip 0.05, --instance-noise 0.1, a lower --lr-d, "
                        "or --d-optimizer sgd")


def diversity(images: torch.Tensor) -> float:
    """Mean pairwise distance between the images of a batch, per pixel (RMS difference).

    ``||x_i - x_j|| / sqrt(C*H*W)`` averaged over pairs i < j; 0 when all images are equal,
    about 0.8 for independent uniform noise in [-1, 1]. Compare a fake batch with a real one:
    fakes far less spread out than the data mean mode collapse. NaN for fewer than 2 images.
    """
    n = len(images)
    if n < 2:
        return float("nan")
    flat = images.detach().float().flatten(1)
    dist = torch.cdist(flat, flat)
    i, j = torch.triu_indices(n, n, offset=1)
    return float(dist[i, j].mean() / math.sqrt(flat.shape[1]))


class GanHealth:
    """Watches averaged GAN logs; ``check(logs)`` returns new warnings (possibly none), each a
    :class:`~zoo_core.health.HealthWarning` of kind ``d_collapse``, ``g_climb`` or ``mode_collapse``.

    Keys read from ``logs``: ``d_key`` / ``g_key`` (the D and G losses) and ``div_fake`` /
    ``div_real`` (``diversity`` of a fake and a real batch), each optional.
    """

    def __init__(self, loss: str = "nonsaturating", *, window: int = 3, climb_window: int = 5,
                 d_floor: float = 0.05, collapse_ratio: float = 0.25, warmup: int = 2, warmup_steps: int = 500,
                 d_key: str = "loss_d", g_key: str = "loss_g", replay: bool = True):
        # ``replay=False`` for trainers without an image replay buffer (StackGAN refuses --replay-size),
        # so the advice never names a flag the model rejects.
        self.loss, self.window, self.climb_window = loss, window, climb_window
        self.try_d = TRY_D_WINS if replay else TRY_D_WINS_NO_REPLAY
        self.try_collapse = ("--replay-size 512, " if replay else "") + \
            "--label-flip 0.05, a lower --lr-g, --n-critic 2, or --loss hinge / wgan-gp"
        self.d_floor, self.collapse_ratio = d_floor, collapse_ratio
        self.warmup, self.warmup_steps = warmup, warmup_steps
        self.d_key, self.g_key = d_key, g_key
        self.history: deque[dict[str, float]] = deque(maxlen=max(window, climb_window))
        self.active: set[str] = set()
        self.seen = 0
        self.step: int | None = None

    def _series(self, key: str, length: int) -> list[float] | None:
        values = [h[key] for h in list(self.history)[-length:] if key in h and math.isfinite(h[key])]
        return values if len(values) == length else None

    def _conditions(self) -> dict[str, HealthWarning]:
        found = {}
        bounded = self.loss != "wgan-gp"
        d = self._series(self.d_key, self.window)
        if bounded and d and max(d) < self.d_floor:
            found["d_zero"] = HealthWarning(f"D loss has stayed below {self.d_floor} for {self.window} logs "
                                            f"(last {d[-1]:.4f}): D tells real from fake perfectly and G's "
                                            "gradient vanishes", "d_collapse", self.try_d)
        warm = self.seen > self.warmup and (self.step is None or self.step >= self.warmup_steps)
        g = self._series(self.g_key, self.climb_window)
        rising = g is not None and all(b > a for a, b in zip(g, g[1:], strict=False))
        if bounded and warm and rising and g[-1] - g[0] > 0.1 + 0.25 * abs(g[0]):
            found["g_climb"] = HealthWarning(f"G loss rose in each of the last {self.climb_window} logs "
                                             f"({g[0]:.3f} -> {g[-1]:.3f}): D is pulling away from G", "g_climb",
                                             f"a --lr-d below --lr-g, {self.try_d}")
        fake, real = self._series("div_fake", self.window), self._series("div_real", self.window)
        if fake and real and warm:
            ratios = [f / r for f, r in zip(fake, real, strict=True) if r > 0]
            if len(ratios) == self.window and max(ratios) < self.collapse_ratio:
                found["collapse"] = HealthWarning(f"generated images vary much less than real ones (pairwise "
                                                  f"distance ratio {ratios[-1]:.2f} < {self.collapse_ratio}): mode "
                                                  "collapse", "mode_collapse", self.try_collapse)
        return found

    def check(self, logs: dict[str, float], step: int | None = None) -> list[HealthWarning]:
        """Record one averaged log and return the warnings that have just started.

        ``step`` (the training step, when known) delays the G-loss and diversity checks for
        ``warmup_steps``: early on D always pulls ahead for a while and a freshly initialised G makes
        near-identical faint images; neither is a failure yet.
        """
        self.seen += 1
        self.step = step
        self.history.append({k: float(v) for k, v in logs.items() if isinstance(v, (int, float))})
        found = self._conditions()
        new = [msg for key, msg in found.items() if key not in self.active]
        self.active = set(found)
        return new

    def state_dict(self) -> dict:
        return {"history": list(self.history), "active": sorted(self.active), "seen": self.seen}

    def load_state_dict(self, state: dict) -> None:
        self.history.clear()
        self.history.extend(state.get("history", []))
        self.active = set(state.get("active", []))
        self.seen = int(state.get("seen", 0))
