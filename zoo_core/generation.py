"""What every model's ``generate`` shares: sampler lookup, seeding, batching, class labels and progress.

Noise is drawn from a CPU ``torch.Generator`` seeded with ``seed`` and moved to the model's
device, so the same seed gives the same images on any device (up to float rounding) and the
CLI and ``generate()`` agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .errors import ZooError
from .rng import seeded


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


def sampling_used(model, sampler: str | None = None, steps: int | None = None) -> dict[str, Any]:
    """``{"sampler", "steps"}`` that ``model.generate(sampler=sampler, steps=steps)`` uses, defaults resolved
    (the model's first sampler; its ``default_steps(sampler)`` when it has one), for records a user reads
    later: PNG metadata, ``zoo eval``'s results. None where a model has no such choice (a GAN)."""
    try:
        name = sampler_fn(model, sampler)[0]
    except ZooError:
        name = sampler
    how = getattr(model, "default_steps", None)
    if steps is None and how is not None and name is not None:
        try:
            steps = how(name)
        except ZooError:
            pass
    return {"sampler": name, "steps": steps}


class Progress:
    """A rich progress display with any number of tasks, or a silent stand-in when disabled.

    The one progress wrapper of the zoo: ``generate`` and samplers (``track`` advances the newest
    task once per item, e.g. per denoising step) and the evaluator (one task per image stream).
    """

    def __init__(self, bar=None, callback: Callable[[int, int], Any] | None = None, total: int = 0):
        self.bar, self.current = bar, None
        self.callback, self.total, self.done = callback, total, 0  # ``generate(callback=)``: (step, total)

    def task(self, description: str, total: int | None):
        """Add a task and make it the one ``track`` and ``advance`` move by default."""
        self.current = self.bar.add_task(description, total=total) if self.bar is not None else None
        return self.current

    def advance(self, k: int = 1, task=None) -> None:
        """``k`` units of work done (sampling steps, batches); the ``callback=`` of ``generate`` sees each."""
        task = self.current if task is None else task
        if self.bar is not None and task is not None:
            self.bar.advance(task, k)
        if self.callback is not None:
            for _ in range(k):
                self.done += 1
                self.callback(self.done, self.total)

    def update(self, completed: float, task=None) -> None:
        """Set how much of a task is done (a float: part of a chunk of images); the bar only, no callback."""
        task = self.current if task is None else task
        if self.bar is not None and task is not None:
            self.bar.update(task, completed=completed)

    def track(self, seq: Iterable, total: int | None = None) -> Iterator:
        for item in seq:
            yield item
            self.advance()


@contextmanager
def progress_bar(enabled: bool, total: int | None = None, description: str = "sampling", transient: bool = True,
                 unit: str = "it"):
    """A :class:`Progress` on stderr (with a first task when ``total`` is given), silent when not ``enabled``.

    Inside a ``generate`` call with ``callback=`` (see :mod:`zoo_core.modeling`), it also reports to it.
    """
    from .modeling import current_options

    callback = current_options().callback
    if not enabled:
        yield Progress(callback=callback, total=total or 0)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn

    from .progress import make_progress  # plain lines every --progress-every seconds off a terminal

    with make_progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                       transient=transient, unit=unit) as bar:
        progress = Progress(bar, callback=callback, total=total or 0)
        if total is not None:
            progress.task(description, total)
        yield progress


def generate(model, n: int, *, seed: int | None = None, sampler: str | None = None, steps: Any = None,
             batch_size: int | None = None, progress: bool = False, bar_steps: int | None = None,
             per_batch: Callable[[int, int, Any], dict] | None = None, eval_mode: bool = False,
             **sampler_kwargs: Any):
    """The one sampling loop behind every model's ``generate``: ``n`` images in [-1, 1] as a CPU float tensor.

    Looks up the sampler (the model's first registered one by default), draws batches of
    ``batch_size`` (default ``min(n, 64)``) from one CPU generator seeded with ``seed``, and calls
    ``fn(model, k, generator=g, steps=steps, progress=bar, **sampler_kwargs, **per_batch(k, start, g))``.
    ``per_batch`` gives what changes from batch to batch (class labels drawn from ``g``, the slice of a
    prompt list). With ``bar_steps`` the sampler advances the bar that many times per batch (denoising
    steps); without, the bar counts batches and the sampler gets a silent one. ``eval_mode`` samples in eval mode whatever the caller left.
    """
    check_count(n)
    check_batch_size(batch_size)
    name, fn = sampler_fn(model, sampler)
    bs = batch_size or min(n, 64)
    batches = -(-n // bs) if n > 0 else 0
    total = batches * (bar_steps or 1)
    described = f"{name} {bar_steps} steps" if bar_steps else f"{name} sampling"
    done = [0]

    def one(k: int, g) -> Any:
        extra = per_batch(k, done[0], g) if per_batch else {}
        images = fn(model, k, generator=g, steps=steps, progress=bar if bar_steps else Progress(),
                    **sampler_kwargs, **extra)
        done[0] += k
        if not bar_steps:
            bar.advance()
        return images

    was_training = getattr(model, "training", False)
    if eval_mode:
        model.eval()
    try:
        with progress_bar(progress, total, described) as bar:
            return batched(n, bs, seed, one)
    finally:
        if eval_mode:
            model.train(was_training)


def generate_chunks(model, n: int, *, seed: int = 0, batch_size: int | None = None, progress: bool = False,
                    description: str = "sampling", chunk_kwargs: Callable[[int], dict] | None = None,
                    **kwargs: Any) -> Iterator[tuple[int, Any]]:
    """Draw ``model.generate(n, seed=seed, **kwargs)``'s images one batch at a time.

    Why: a FID sample set (``zoo sample --n 50000 --out DIR``) must neither hold every image in memory
    (50,000 at 256 px are 39 GB as floats) nor lose hours of sampling to one late failure, so each batch can
    be written before the next is drawn. The images are those of the one big call: one CPU generator seeded
    with ``seed`` feeds every batch in order, and batch ``i`` here is batch ``i`` there. One bar counts
    images, advanced within a batch by the model's ``callback`` (denoising steps). A model outside
    :class:`~zoo_core.modeling.ZooModelMixin` (the ``Generator`` protocol asks a ``seed`` only, not
    ``generator=``) is asked once for all ``n``.

    Args:
        model: a model from ``create_model`` / ``from_pretrained``.
        n: how many images in all.
        seed: the seed of the whole set (the same as ``generate``'s).
        batch_size: images per batch (default: ``min(n, 64)``).
        progress: show one progress bar for the whole set.
        description: the bar's label.
        chunk_kwargs: ``chunk_kwargs(start)`` gives the ``generate`` options that depend on the position
            (a prompt list rotated so that image ``start + i`` keeps its prompt).
        **kwargs: ``generate``'s other options (``sampler=``, ``steps=``, ``label=``, ...).

    Returns:
        An iterator of ``(start, images)`` pairs: ``images`` are images ``start`` to ``start + len(images)``
        of the set, as ``generate`` returns them, each pair yielded as soon as its batch is drawn.

    Example:
        >>> import torch
        >>> from zoo_core import create_model, generate_chunks
        >>> model = create_model("dcgan", res=16, channels=4)
        >>> parts = list(generate_chunks(model, 5, seed=0, batch_size=2))
        >>> [start for start, _ in parts]
        [0, 2, 4]
        >>> torch.equal(torch.cat([x for _, x in parts]), model.generate(5, seed=0, batch_size=2))
        True
    """

    from .modeling import ZooModelMixin

    check_count(n)
    check_batch_size(batch_size)
    if not isinstance(model, ZooModelMixin):
        extra = chunk_kwargs(0) if chunk_kwargs else {}
        yield 0, model.generate(n, seed=seed, batch_size=batch_size, progress=progress, **kwargs, **extra)
        return
    bs = batch_size or min(n, 64)
    g = seeded(seed)
    with progress_bar(progress, n, description, unit="images") as bar:
        for start in range(0, n, bs):
            k = min(bs, n - start)

            def report(done: int, total: int, start: int = start, k: int = k) -> None:
                bar.update(start + k * done / max(total, 1))

            extra = chunk_kwargs(start) if chunk_kwargs else {}
            images = model.generate(k, generator=g, batch_size=bs, callback=report, **kwargs, **extra)
            bar.update(start + k)
            yield start, images


def class_labels(n: int, label: int | str | None, num_classes: int, generator, device, model_name: str = "this",
                 names: Sequence[str] = ()):
    """``n`` class indices for a class-conditional model: ``label`` repeated, or drawn from ``generator``.

    ``label`` is an index (an int, or digits), or one of the class ``names`` the model keeps (a class named by
    digits wins). An unconditional model (``num_classes`` 0) returns None and refuses a given ``label``; an
    unknown name or an index outside ``[0, num_classes)`` is a one-line ZooError listing the valid ones
    (``labels.ClassLayout.value_index``, the one parser of a class value, also used per attribute).
    """
    import torch

    from .labels import ClassLayout

    if not num_classes:
        if label is not None:
            raise ZooError(f"{model_name} model is not class-conditional; drop label= (--class)")
        return None
    if label is None:
        return torch.randint(0, num_classes, (n,), generator=generator).to(device)
    names = tuple(map(str, names)) if len(names) == num_classes else ()
    index = ClassLayout(("",), (names,), (num_classes,)).value_index(0, label, flag="label (--class)")
    return torch.full((n,), index, dtype=torch.long, device=device)


COMMON = ("n", "seed", "sampler", "steps", "batch_size", "progress")  # zoo sample's own flags


def model_options(model, items: Iterable[str]) -> dict[str, Any]:
    """``zoo sample -o KEY=VALUE`` items as keyword arguments for ``model.generate`` (a family's own options).

    Values read as numbers or booleans where they look like one. A key that ``generate`` does not name is
    a one-line ZooError listing those it does; a model whose ``generate`` takes ``**kwargs`` checks its
    extra options itself.
    """
    import inspect

    from .metrics.specs import parse_value

    params = inspect.signature(model.generate).parameters
    named = [k for k, p in params.items() if p.kind is p.KEYWORD_ONLY and k not in COMMON]
    open_ended = any(p.kind is p.VAR_KEYWORD for p in params.values())
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key.isidentifier():
            raise ZooError(f"-o expects KEY=VALUE (e.g. -o truncation=0.7), got {item!r}")
        if key in COMMON:
            raise ZooError(f"-o {key}: use zoo sample's own --{key.replace('_', '-')} flag")
        if key not in named and not open_ended:
            raise ZooError(f"{model.zoo_name} does not take -o {key} (it takes: {', '.join(named) or 'no options'})")
        out[key] = parse_value(value)
    return out


def check_count(n: Any) -> None:
    """``n`` images asked for must be a positive int (not a bool, a float or a string from a config)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ZooError(f"n must be a positive integer, got {n!r}")


def check_batch_size(batch_size: Any) -> None:
    """``batch_size`` must be None (the default) or a positive int: a negative one would draw nothing."""
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise ZooError(f"batch_size must be a positive integer, got {batch_size!r}")


def batched(n: int, batch_size: int | None, seed: int | None,
            fn: Callable[[int, Any], Any], default_batch: int = 64):
    """Call ``fn(batch_n, generator)`` over batches and concatenate; one generator for the whole call.

    The generator is the ``generator=`` given to ``generate`` if any, else a CPU one seeded with ``seed``.
    """
    import torch

    from .modeling import current_options

    check_count(n)
    check_batch_size(batch_size)
    bs = batch_size or min(n, default_batch)
    g = current_options().generator or seeded(0 if seed is None else seed)
    out = []
    with torch.no_grad():
        for start in range(0, n, bs):
            out.append(fn(min(bs, n - start), g).float().cpu())
            if start == 0 and n > bs:
                check_fits(n, out[0])
    return torch.cat(out)


def check_fits(n: int, first) -> None:
    """After the first batch, refuse an ``n`` whose images cannot all be held at once (the batches and
    their concatenation: twice the result) instead of sampling for hours and then running out of memory."""
    from .device import available_memory

    need = 2 * n * first[0].numel() * first.element_size()
    free = available_memory()
    if free is not None and need > free:
        raise ZooError(f"{n:,} images of shape {tuple(first.shape[1:])} need {need / 2**30:,.1f} GiB at once, more "
                       f"than the {free / 2**30:,.1f} GiB free: draw them in pieces with "
                       "zoo_core.generate_chunks(model, n, ...) or `zoo sample SRC --n N --out FOLDER/`")


def randn(shape, generator, device):
    """Standard normal noise from a CPU generator, moved to ``device``."""
    import torch

    return torch.randn(shape, generator=generator).to(device)
