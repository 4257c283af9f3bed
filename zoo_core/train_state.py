"""What a training checkpoint holds, and putting it back: every module, the EMA copy, the optimizers,
the grad scalers, the trainer's own state, each rank's RNG streams and the loop counters.

Resuming from these gives the weights of an uninterrupted run (tested), because nothing random or
stateful is left out: each rank's RNG and trainer state go in and come back to their own rank (ranks draw
different noise, so rank 0's state everywhere would change the run; see :mod:`zoo_core.distributed`).
Where the checkpoint lives is :class:`zoo_core.runs.Run`'s business, its file format
:mod:`zoo_core.checkpoint`'s.
"""

from __future__ import annotations

import signal
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import checkpoint as ckpt
from . import distributed as distributed_mod
from .errors import ZooError, first_line
from .rng import get_rng_state, seed_all, set_rng_state
from .runs import Run

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine


@dataclass
class LoopState:
    """Everything the loop touches (``engine.run``), so that checkpoints, rollback and callbacks see one object.

    ``folder`` is the run folder being written (:class:`~zoo_core.runs.Run`); ``step``, ``position`` (stream
    items consumed by all ranks together) and ``lr_scale`` are what a checkpoint restores; ``stop`` is set
    by Ctrl-C / SIGTERM (or a callback) to end the run after this step with a checkpoint.
    """

    folder: Run
    step: int = 0
    position: int = 0
    lr_scale: float = 1.0
    stop: bool = False
    nonfinite_streak: int = 0
    logs: dict = field(default_factory=lambda: defaultdict(list))
    warned: set = field(default_factory=set)

    @property
    def out(self) -> Path:
        """The run folder's path."""
        return self.folder.path


@contextmanager
def stop_on_signals(state: LoopState, console: Any) -> Iterator[None]:
    """While inside, Ctrl-C or SIGTERM sets ``state.stop``: the loop finishes the step, writes a checkpoint
    and ends with status 0 (a batch scheduler's SIGTERM loses nothing); a second Ctrl-C stops at once.

    Only the main thread may install signal handlers; elsewhere (a notebook's worker thread) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if state.stop:  # second Ctrl-C: give up at once
            raise KeyboardInterrupt
        state.stop = True
        console.print("[yellow]stopping: finishing this step and writing a checkpoint...[/]")

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def capture(engine: Engine) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The (tensors, state) to checkpoint; every rank must call it (it gathers), rank 0 gets the result."""
    ranks = distributed_mod.gather({"rng": get_rng_state(), "trainer": engine.trainer.state_dict()})
    if not engine.dist.main:
        return None
    tensors: dict[str, Any] = {}
    for name, module in engine.trainer.modules.items():
        tensors.update({f"module.{name}.{k}": v for k, v in module.state_dict().items()})
    if engine.ema:
        tensors.update({f"ema.{k}": v for k, v in engine.ema.model.state_dict().items()})
    optim_rest = {}
    for name, opt in engine.trainer.optimizers.items():
        flat, optim_rest[name] = ckpt.flatten_optimizer(name, opt.state_dict())
        tensors.update(flat)
    state = {
        "position": engine.run.position,
        "lr_scale": engine.run.lr_scale,
        "ema_updates": engine.ema.updates if engine.ema else 0,
        "optimizers": optim_rest,
        "scalers": {k: s.state_dict() for k, s in engine.scalers.items()},
        "trainer": ranks[0]["trainer"],
        "trainer_ranks": distributed_mod.pack_ranks([r["trainer"] for r in ranks]),
        "rng": ranks[0]["rng"],
        "rng_ranks": [r["rng"] for r in ranks],
    }
    return tensors, state


def restore(engine: Engine, tensors: dict[str, Any], state: dict[str, Any]) -> str | None:
    """Put a checkpoint back into ``engine`` (after ``setup``); returns a warning when the process count
    differs from the one that wrote it (training continues, but no longer bit-identically).

    The tensors are checksummed and the counters checked when the checkpoint is read; what only
    fails here (an edited state.json, optimizer groups of another model) is one line naming the
    checkpoint and the two ways on, not a traceback from torch's ``load_state_dict``.
    """
    try:
        return _restore(engine, tensors, state)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, RuntimeError) as exc:
        where = engine.run.folder.checkpoint_dir / ckpt.folder_name(int(state.get("step") or 0))
        raise ZooError(f"checkpoint {where} cannot be restored ({type(exc).__name__}: {first_line(exc)[:160]}): it "
                       "was edited, or written by another zoo version or model config; delete that folder to resume "
                       "from the checkpoint before it, or train into a new --out") from None


def _restore(engine: Engine, tensors: dict[str, Any], state: dict[str, Any]) -> str | None:
    for name, module in engine.trainer.modules.items():
        prefix = f"module.{name}."
        module.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
    if engine.ema:
        engine.ema.model.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")})
        engine.ema.updates = state.get("ema_updates", 0)
    for name, opt in engine.trainer.optimizers.items():
        opt.load_state_dict(ckpt.unflatten_optimizer(name, tensors, state["optimizers"][name]))
    for name, scaler in engine.scalers.items():
        if state["scalers"].get(name):
            scaler.load_state_dict(state["scalers"][name])
    rank, world = engine.dist.rank, engine.dist.world
    engine.trainer.load_state_dict(distributed_mod.for_rank(state.get("trainer", {}), state.get("trainer_ranks"), rank))
    rng = distributed_mod.rng_for_rank(state, rank)
    if rng is None:  # more processes than wrote the checkpoint: a fresh stream for this rank
        seed_all(engine.cfg.seed + 1000 * rank + 7919 * state["step"])
    else:
        set_rng_state(rng)
    engine.run.step, engine.run.position = state["step"], state["position"]
    engine.run.lr_scale = state.get("lr_scale", 1.0)
    saved_world = len(state.get("rng_ranks") or [0])
    if saved_world == world:
        return None
    return (f"resuming a checkpoint written by {saved_world} process(es) with {world}: "
            "training continues, but not bit-identically to an uninterrupted run")


def resume_point(folder: Run) -> tuple[Path, dict[str, Any], dict[str, Any]] | None:
    """The checkpoint a (re)started run continues from: the newest that verifies, or None for a new run.

    A plain re-run, ``--resume`` and a torchrun elastic restart all take this path; every rank must find
    the same one (checked), and a folder whose checkpoints are all corrupt is an error, not a fresh start.
    """
    found = folder.latest_checkpoint() if folder.checkpoints() else None
    if found is None and folder.checkpoints():
        raise ZooError(f"every checkpoint in {folder.checkpoint_dir} is corrupt; move them away to restart")
    distributed_mod.agree_on_checkpoint(found[0] if found else None, folder.path)
    return found
