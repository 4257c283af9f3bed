"""How training draws timesteps: uniformly, or by loss-aware importance sampling (iDDPM sec. 3.3).

L_vlb = sum_t L_t is estimated as E_{t ~ p}[L_t / (T p_t)] * T: any p gives an unbiased estimate,
and p_t proportional to sqrt(E[L_t^2]) gives the smallest variance. The loss-aware sampler keeps
the last ``history`` losses of every t, samples uniformly until each t has a full history, then
mixes the importance distribution with a little of the uniform one so that no t starves.
Weights are 1 / (T p_t), so ``(weights * losses).mean()`` stays an unbiased estimate of the
uniform-t loss. The state is JSON-able (lists of floats), which makes resumed runs exact.
"""

from __future__ import annotations

import numpy as np
import torch


class UniformSampler:
    """t ~ U{0, ..., T-1} with weights 1."""

    kind = "uniform"

    def __init__(self, T: int):
        self.T = T

    def probs(self) -> np.ndarray:
        return np.full(self.T, 1.0 / self.T)

    def weights_of(self, t: torch.Tensor) -> torch.Tensor:
        """Importance weights 1 / (T p_t) of the drawn timesteps."""
        p = torch.as_tensor(self.probs(), device=t.device)[t]
        return (1.0 / (self.T * p)).float()

    def sample(self, n: int, device) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` timesteps drawn from :meth:`probs` and their weights 1 / (T p_t).

        One body for every sampler, so a subclass changes only ``probs()`` and the draws and weights
        always follow it (as in improved-diffusion's ScheduleSampler)."""
        p = torch.as_tensor(self.probs())
        t = torch.multinomial(p, n, replacement=True)  # the CPU RNG: part of every checkpoint
        return t.to(device), (1.0 / (self.T * p[t])).float().to(device)

    def update(self, t: torch.Tensor, losses: torch.Tensor) -> None:
        """Record per-example losses of timesteps ``t`` (nothing to record for uniform)."""

    def state_dict(self) -> dict:
        return {"kind": self.kind}

    def load_state_dict(self, state: dict) -> None:
        if state and state.get("kind", self.kind) != self.kind:
            raise ValueError(f"checkpoint holds a {state['kind']} timestep sampler, this run uses {self.kind}")


class LossAwareSampler(UniformSampler):
    """Importance sampling with p_t proportional to sqrt(mean of the last ``history`` L_t^2)."""

    kind = "loss-aware"

    def __init__(self, T: int, history: int = 10, uniform_prob: float = 0.001):
        super().__init__(T)
        self.history, self.uniform_prob = history, uniform_prob
        self.losses = np.zeros((T, history), dtype=np.float64)
        self.counts = np.zeros(T, dtype=np.int64)

    def warmed_up(self) -> bool:
        return bool((self.counts == self.history).all())

    def probs(self) -> np.ndarray:
        if not self.warmed_up():
            return super().probs()
        w = np.sqrt(np.mean(self.losses**2, axis=-1))
        if not np.isfinite(w).all() or w.sum() <= 0:
            return super().probs()
        w = w / w.sum()
        return w * (1 - self.uniform_prob) + self.uniform_prob / self.T

    def update(self, t: torch.Tensor, losses: torch.Tensor) -> None:
        for ti, loss in zip(t.tolist(), losses.detach().float().cpu().tolist(), strict=True):
            if not np.isfinite(loss):
                continue
            if self.counts[ti] == self.history:
                self.losses[ti, :-1] = self.losses[ti, 1:]
                self.losses[ti, -1] = loss
            else:
                self.losses[ti, self.counts[ti]] = loss
                self.counts[ti] += 1

    def state_dict(self) -> dict:
        return {"kind": self.kind, "losses": self.losses.tolist(), "counts": self.counts.tolist()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        if "losses" not in state:
            return
        losses = np.asarray(state["losses"], dtype=np.float64)
        if losses.shape != self.losses.shape:
            raise ValueError(f"loss history of shape {losses.shape} does not fit T={self.T}, history={self.history}")
        self.losses, self.counts = losses, np.asarray(state["counts"], dtype=np.int64)


def make_timestep_sampler(name: str, T: int) -> UniformSampler:
    """The sampler named by ``--timestep-sampler``."""
    if name == "uniform":
        return UniformSampler(T)
    if name == "loss-aware":
        return LossAwareSampler(T)
    raise ValueError(f"unknown timestep sampler {name!r} (uniform or loss-aware)")
