"""Exponential moving average of a model's weights, for short and long runs alike.

Two profiles, by how the decay of update ``t`` (1-based) is chosen:

* ``gamma=None`` (classic, with warm-up): ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates.
* ``gamma=g`` (the power-function EMA of Karras et al. 2024, "Analyzing and Improving the Training
  Dynamics of Diffusion Models"): ``(1 - 1/t)^(g + 1)``, capped at ``decay``. Until the cap the
  average gives update tau the weight ``(tau^(g+1) - (tau-1)^(g+1)) / t^(g+1)`` exactly, i.e. it
  averages the last fraction of the run whatever its length (g = 6.94 is their sigma_rel = 0.10,
  g = 16.97 is 0.05): a 1,500-step run is not sampled from stale early weights as a fixed 0.9999 decay
  would (its window of 10,000 steps would still remember the initialisation), and a long run is
  no longer averaged over ever more steps once the cap takes over.
"""

from __future__ import annotations

import copy


class EMA:
    def __init__(self, model, decay: float = 0.9999, warmup: bool = True, gamma: float | None = None):
        if gamma is not None and gamma < 0:
            raise ValueError(f"EMA gamma must be >= 0, got {gamma}")
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay, self.warmup, self.gamma, self.updates = decay, warmup, gamma, 0

    def current_decay(self) -> float:
        """The decay the next update uses."""
        if self.gamma is not None:
            t = self.updates + 1
            return min(self.decay, (1.0 - 1.0 / t) ** (self.gamma + 1.0))
        if not self.warmup:
            return self.decay
        return min(self.decay, (1 + self.updates) / (10 + self.updates))

    def update(self, model) -> None:
        import torch

        d = self.current_decay()
        with torch.no_grad():
            ema_p = [p for p in self.model.parameters()]
            live_p = [p.detach() for p in model.parameters()]
            floats = [(e, p) for e, p in zip(ema_p, live_p) if e.dtype.is_floating_point]
            if floats:
                torch._foreach_lerp_([e for e, _ in floats], [p for _, p in floats], 1.0 - d)
            for e, p in zip(self.model.buffers(), model.buffers()):
                e.copy_(p)
        self.updates += 1
