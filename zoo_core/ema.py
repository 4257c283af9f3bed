"""Exponential moving average of a model's weights, with the usual warm-up.

The effective decay is ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates, so early EMA
weights follow the fast-moving model instead of staying stuck near the random initialisation
(a short run with decay 0.9999 would otherwise sample from almost untrained weights).
"""

from __future__ import annotations

import copy


class EMA:
    def __init__(self, model, decay: float = 0.9999, warmup: bool = True):
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay, self.warmup, self.updates = decay, warmup, 0

    def current_decay(self) -> float:
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
