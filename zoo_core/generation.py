"""What every model's ``generate`` shares: sampler lookup, seeding, batching and a progress bar.

Noise is drawn from a CPU ``torch.Generator`` seeded with ``seed`` and moved to the model's
device, so the same seed gives the same images on any device (up to float rounding) and the
CLI and ``generate()`` agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from .errors import ZooError


def sampler_fn(model, name: str | None) -> tuple[str, Callable]:
    """The sampler function ``name`` (default: the model's first) for ``model``."""
    from .plugins import registry
    from .registry import load_object

    reg = registry()
    spec = reg.tables["model"].get(model.zoo_name)
    allowed = spec.samplers if spec else ()
    name = name or (allowed[0] if allowed else None)
    if name is None:
        raise ZooError(f"{model.zoo_name} has no sampler registered")
    if allowed and name not in allowed:
        raise ZooError(f"sampler {name!r} does not apply to {model.zoo_name} (use one of: {', '.join(allowed)})")
    return name, load_object(reg.sampler(name).fn)


class Progress:
    """A rich progress bar shared by the batches of one ``generate`` call (or a silent stand-in)."""

    def __init__(self, bar=None, task=None):
        self.bar, self.task = bar, task

    def track(self, seq: Iterable, total: int | None = None) -> Iterator:
        for item in seq:
            yield item
            if self.bar is not None:
                self.bar.advance(self.task)


@contextmanager
def progress_bar(enabled: bool, total: int, description: str = "sampling"):
    if not enabled:
        yield Progress()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn

    from .progress import make_progress  # plain lines every --progress-every seconds off a terminal

    with make_progress(TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                       transient=True) as bar:
        yield Progress(bar, bar.add_task(description, total=total))


def batched(n: int, batch_size: int | None, seed: int | None,
            fn: Callable[[int, Any], Any], default_batch: int = 64):
    """Call ``fn(batch_n, generator)`` over batches and concatenate; one generator for the whole call."""
    import torch

    if n < 1:
        raise ZooError(f"n must be at least 1, got {n}")
    bs = batch_size or min(n, default_batch)
    g = torch.Generator().manual_seed(0 if seed is None else int(seed))
    out = []
    with torch.no_grad():
        for start in range(0, n, bs):
            out.append(fn(min(bs, n - start), g).float().cpu())
    return torch.cat(out)


def randn(shape, generator, device):
    """Standard normal noise from a CPU generator, moved to ``device``."""
    import torch

    return torch.randn(shape, generator=generator).to(device)
