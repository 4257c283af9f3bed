"""The practical tricks that keep a discriminator from winning too early.

* soft labels (``real_fake_targets``): one-sided smoothing (real = 0.9) or random targets
  (real in [0.7, 1.2], fake in [0, 0.3]) so D is never rewarded for absolute certainty;
* noisy labels (``flip_labels``): occasionally swap real and fake targets;
* instance noise (``InstanceNoise``): Gaussian noise on every D input, decayed to 0, so real and
  fake distributions overlap early on and D's gradient stays informative;
* experience replay (``ReplayBuffer``): show D some of G's older fakes so G cannot win by
  hopping between modes D has forgotten.
"""

from __future__ import annotations

import torch

from .options import parse_smoothing

RANDOM_REAL = (0.7, 1.2)
RANDOM_FAKE = (0.0, 0.3)


def _uniform(n: int, low: float, high: float, generator, device) -> torch.Tensor:
    gen_device = generator.device if generator is not None else device
    u = torch.rand(n, generator=generator, device=gen_device)
    return (low + (high - low) * u).to(device)


def real_fake_targets(n: int, smoothing: str | float | None, *, generator: torch.Generator | None = None,
                      device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """D's targets for ``n`` real and ``n`` fake samples.

    ``smoothing``: None/"none"/1.0 gives 1 and 0; a number ``s`` gives real = s, fake = 0 (one-sided:
    smoothing fake targets too would reward G for fakes D already finds likely); "random" draws real
    from U[0.7, 1.2] and fake from U[0, 0.3] per sample. For the BCE loss a real target above 1 has
    no finite optimum on its own, but the expected target is 0.95, so D's optimum stays finite.
    """
    kind = parse_smoothing(smoothing)
    if kind == "random":
        return (_uniform(n, *RANDOM_REAL, generator, device), _uniform(n, *RANDOM_FAKE, generator, device))
    real = torch.full((n,), 1.0 if kind is None else float(kind), device=device)
    return real, torch.zeros(n, device=device)


def flip_labels(targets: torch.Tensor, fraction: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Noisy labels: each target becomes ``1 - target`` with probability ``fraction``."""
    if fraction <= 0:
        return targets
    gen_device = generator.device if generator is not None else targets.device
    mask = torch.rand(targets.shape, generator=generator, device=gen_device).to(targets.device) < fraction
    return torch.where(mask, 1.0 - targets, targets)


class InstanceNoise:
    """Gaussian noise on D's inputs with a std decaying linearly from ``start_std`` to 0.

    ``decay_steps = 0`` keeps the std constant. The noise is added to real and fake images alike
    (in both D's and G's updates), so D compares the two distributions blurred by the same amount.
    """

    def __init__(self, start_std: float, decay_steps: int):
        if start_std < 0 or decay_steps < 0:
            raise ValueError("instance noise std and decay steps must be >= 0")
        self.start_std, self.decay_steps = float(start_std), int(decay_steps)

    def std(self, step: int) -> float:
        if self.decay_steps == 0:
            return self.start_std
        return self.start_std * max(0.0, 1.0 - step / self.decay_steps)

    def __call__(self, x: torch.Tensor, step: int) -> torch.Tensor:
        s = self.std(step)
        return x + s * torch.randn_like(x) if s > 0 else x


class ReplayBuffer:
    """A ring buffer of past fakes; ``mix`` swaps part of a fresh fake batch for stored ones.

    ``push`` stores detached copies (the oldest are overwritten once ``capacity`` is reached);
    ``mix(fake)`` replaces ``round(mix_fraction * len(fake))`` randomly chosen images of ``fake``
    with random stored ones (nothing while the buffer is empty). The stored images live on the
    device of the fakes and are *not* checkpointed: ``state_dict`` keeps only counters, so after a
    resume the buffer refills within ``capacity / batch`` steps.
    """

    def __init__(self, capacity: int, mix_fraction: float = 0.5):
        if capacity < 0 or not 0.0 <= mix_fraction <= 1.0:
            raise ValueError("replay capacity must be >= 0 and mix fraction in [0, 1]")
        self.capacity, self.mix_fraction = int(capacity), float(mix_fraction)
        self.images: torch.Tensor | None = None
        self.size = 0  # filled slots
        self.head = 0  # next slot to write
        self.pushed = 0  # images pushed in total (a statistic)

    def __len__(self) -> int:
        return self.size

    def push(self, images: torch.Tensor) -> None:
        if self.capacity == 0 or len(images) == 0:
            return
        images = images.detach()[-self.capacity:]
        if self.images is None or self.images.shape[1:] != images.shape[1:]:  # first call or a new resolution
            self.images = torch.empty((self.capacity, *images.shape[1:]), dtype=images.dtype, device=images.device)
            self.size = self.head = 0
        idx = (self.head + torch.arange(len(images))) % self.capacity
        self.images[idx.to(self.images.device)] = images.to(self.images.device, self.images.dtype)
        self.head = int((self.head + len(images)) % self.capacity)
        self.size = min(self.capacity, self.size + len(images))
        self.pushed += len(images)

    def mix(self, fake_batch: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        k = round(self.mix_fraction * len(fake_batch))
        if self.size == 0 or k == 0 or self.images is None or self.images.shape[1:] != fake_batch.shape[1:]:
            return fake_batch
        dev = generator.device if generator is not None else torch.device("cpu")
        where = torch.randperm(len(fake_batch), generator=generator, device=dev)[:k].to(fake_batch.device)
        pick = torch.randint(0, self.size, (k,), generator=generator, device=dev).to(self.images.device)
        out = fake_batch.clone()
        out[where] = self.images[pick].to(out.device, out.dtype)
        return out

    def state_dict(self) -> dict:
        return {"capacity": self.capacity, "mix_fraction": self.mix_fraction, "pushed": self.pushed}

    def load_state_dict(self, state: dict) -> None:
        self.pushed = int(state.get("pushed", 0))
