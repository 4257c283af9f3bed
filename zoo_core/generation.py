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
    spec = reg.lookup("model", model.zoo_name)
    allowed = spec.samplers if spec else ()
    name = name or (allowed[0] if allowed else None)
    if name is None:
        raise ZooError(f"{model.zoo_name} has no sampler registered")
    if allowed and name not in allowed:
        raise ZooError(f"sampler {name!r} does not apply to {model.zoo_name} (use one of: {', '.join(allowed)})")
    return name, load_object(reg.sampler(name).fn)


class Progress:
    """A rich progress bar shared by the batches of one ``generate`` call (or a silent stand-in).

    Each :meth:`advance` also calls the ``callback=`` of the ``generate`` call, if any, with
    ``(step, total)``: samplers report steps once and both the bar and the callback see them.
    """

    def __init__(self, bar=None, task=None, total: int = 0, callback: Callable[[int, int], Any] | None = None):
        self.bar, self.task, self.total, self.callback = bar, task, total, callback
        self.done = 0

    def advance(self) -> None:
        """One unit of work done: a sampling step (diffusion) or a batch (one-shot generators)."""
        self.done += 1
        if self.bar is not None:
            self.bar.advance(self.task)
        if self.callback is not None:
            self.callback(self.done, self.total)

    def track(self, seq: Iterable, total: int | None = None) -> Iterator:
        for item in seq:
            yield item
            self.advance()


@contextmanager
def progress_bar(enabled: bool, total: int, description: str = "sampling"):
    """A :class:`Progress` over ``total`` steps: a rich bar on stderr when ``enabled``, else silent."""
    from .modeling import current_options

    callback = current_options().callback
    if not enabled:
        yield Progress(total=total, callback=callback)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as RichProgress

    with RichProgress(TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=Console(stderr=True), transient=True) as bar:
        yield Progress(bar, bar.add_task(description, total=total), total, callback)


def batched(n: int, batch_size: int | None, seed: int | None,
            fn: Callable[[int, Any], Any], default_batch: int = 64):
    """Call ``fn(batch_n, generator)`` over batches and concatenate; one generator for the whole call.

    The generator is the ``generator=`` given to ``generate`` if any, else a CPU one seeded with ``seed``.
    """
    import torch

    from .modeling import current_options

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ZooError(f"n must be a positive integer, got {n!r}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise ZooError(f"batch_size must be a positive integer, got {batch_size!r}")
    bs = batch_size or min(n, default_batch)
    g = current_options().generator or torch.Generator().manual_seed(0 if seed is None else int(seed))
    out = []
    with torch.no_grad():
        for start in range(0, n, bs):
            out.append(fn(min(bs, n - start), g).float().cpu())
    return torch.cat(out)


def randn(shape, generator, device):
    """Standard normal noise from a CPU generator, moved to ``device``."""
    import torch

    return torch.randn(shape, generator=generator).to(device)
