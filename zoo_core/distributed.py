"""What a torch.distributed run needs: the data-parallel syncs (averaged gradients, broadcast weights and
buffers), per-rank state in checkpoints, one agreed stop, one agreed checkpoint to resume from, and a
one-line exit when a peer process is lost.

Ranks draw different noise (per-rank seeds) and may hold per-rank trainer state, so a checkpoint
keeps each rank's copy and gives it back to that rank: restoring rank 0's everywhere would make the
resumed run differ from the uninterrupted one. Everything here is a no-op in a single process.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import checkpoint as ckpt
from .errors import ZooError
from .runs import Run

#: exit status of a run whose peer was lost: EX_TEMPFAIL ("try again"), unlike 2 for bad input.
PEER_LOST_EXIT = 75


class PeerLostError(ZooError):
    """Another process of a distributed run died or became unreachable; re-running resumes."""

    exit_code = PEER_LOST_EXIT


def _dist():
    import torch.distributed as dist

    return dist if dist.is_available() and dist.is_initialized() else None


def restart_count() -> int:
    """How many times torchrun (elastic) has restarted this worker group; 0 outside torchrun."""
    try:
        return int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
    except ValueError:
        return 0


def init_process_group(backend: str, device=None) -> None:
    """``init_process_group`` from torchrun's environment, with the store's keys kept apart per attempt.

    After an elastic restart torchrun hands the new workers the same store as the failed attempt; its
    keys still hold the dead workers' addresses, so the new group tries to connect to them and fails
    ("connectFullMesh failed ... Connection refused", seen with torch 2.14 and gloo). A prefix per
    restart makes each attempt meet only its own workers. With NCCL the process's GPU is made current
    first: collectives of Python objects (``gather``) place their buffers on the current GPU.
    """
    import torch
    import torch.distributed as dist

    if device is not None and device.type == "cuda":
        torch.cuda.set_device(device)
    store, rank, world = next(dist.rendezvous("env://"))
    store = dist.PrefixStore(f"zoo/attempt_{restart_count()}/", store)
    dist.init_process_group(backend=backend, store=store, rank=rank, world_size=world)


def gather(obj: Any) -> list[Any]:
    """Every rank's ``obj`` (picklable), in rank order; ``[obj]`` in a single process."""
    dist = _dist()
    if dist is None or dist.get_world_size() == 1:
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def any_rank(flag: bool, device=None) -> bool:
    """True on every rank when it is true on any: a Ctrl-C or SIGTERM seen by one rank between two
    steps stops all of them after the same step (else one rank would wait forever in a collective)."""
    dist = _dist()
    if dist is None or dist.get_world_size() == 1:
        return flag
    import torch

    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


# ------------------------------------------------------------- per-rank state in a checkpoint
def average_gradients(params: list[Any], world: int) -> None:
    """All-reduce the gradients of ``params`` to their mean over the ``world`` processes (data parallelism)."""
    dist = _dist()
    for p in params:
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad.div_(world)


def broadcast_modules(modules: Any, params: bool = False) -> None:
    """Copy rank 0's buffers (and with ``params``, its weights) to every rank: the same start, and batch-norm
    statistics that do not drift apart between ranks."""
    dist = _dist()
    for module in modules:
        for t in list(module.buffers()) + (list(module.parameters()) if params else []):
            dist.broadcast(t.data, src=0)


def pack_ranks(states: list[Any]) -> list[Any] | None:
    """Per-rank copies of a state for a checkpoint: None where a rank's equals rank 0's (the common
    case: only what differs is stored), and None for the whole list when no rank differs."""
    packed = [None] + [s if s != states[0] else None for s in states[1:]]
    return packed if any(s is not None for s in packed) else None


def for_rank(shared: Any, ranks: list[Any] | None, rank: int) -> Any:
    """This rank's state from :func:`pack_ranks` output (``shared`` is rank 0's)."""
    if ranks and rank < len(ranks) and ranks[rank] is not None:
        return ranks[rank]
    return shared


def rng_for_rank(state: dict, rank: int) -> dict | None:
    """This rank's saved RNG state, or None when the checkpoint was written by fewer processes (a
    resume with more ranks): that rank must be seeded afresh, not given another rank's state, or two
    ranks would draw identical noise. Checkpoints holding only ``rng`` (one process) still restore."""
    ranks = state.get("rng_ranks") or [state["rng"]]
    return ranks[rank] if rank < len(ranks) else None


def agree_on_checkpoint(found: Path | None, out: Path) -> None:
    """Every rank must resume from the same checkpoint, which it reads itself: a rank that sees
    another one (``--out`` not on storage shared by all nodes, or a copy lagging behind) would train
    a different run in lock-step with the others. A one-line error names the fix."""
    names = gather(found.name if found else None)
    if len(set(names)) > 1:
        seen = ", ".join(f"rank {r}: {n or 'none'}" for r, n in enumerate(names))
        raise ZooError(f"the processes of this run see different checkpoints under {Run(out).checkpoint_dir} ({seen}); "
                       "--out must be one folder on storage shared by every node")


# ----------------------------------------------------------------------- a lost peer process
_PEER_SIGNS = re.compile(r"gloo|nccl|connection (reset|closed|refused)|broken pipe|socket|timed? ?out|"
                         r"process group|peer", re.IGNORECASE)


def is_peer_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a collective failing because another process went away (not a bug here)."""
    try:
        from torch.distributed import DistError
    except ImportError:  # pragma: no cover - very old torch
        DistError = ()  # noqa: N806
    if DistError and isinstance(exc, DistError):
        return True
    return isinstance(exc, RuntimeError) and bool(_PEER_SIGNS.search(str(exc)))


def describe_failure(exc: BaseException) -> str:
    """The gist of a backend error on one short line: gloo prefixes its source location and appends
    advice meant for its own developers, both dropped."""
    text = " ".join(str(exc).split())
    text = re.sub(r"^\[[^\]]*\.(cc|cpp|h|hpp):\d+\]\s*", "", text)
    text = re.split(r"\.\s+(?=[A-Z])", text, maxsplit=1)[0].rstrip(".")
    return text[:160] + ("..." if len(text) > 160 else "") or type(exc).__name__


def peer_lost_message(exc: BaseException, out: Path, rank: int, world: int) -> str:
    who = f"rank {1 - rank}" if world == 2 else "another process of this run"
    steps = Run(out).checkpoints()
    if steps:
        last = ckpt.step_of(steps[-1])
        where = f"the last checkpoint in {out} is step {last}: re-run the same command to resume"
    else:
        where = f"no checkpoint was written to {out} yet: re-run the same command to start again"
    return f"lost contact with {who} (process group error: {describe_failure(exc)}); {where}"


@contextmanager
def peer_guard(out: Path) -> Iterator[None]:
    """Turn a collective that fails because a peer died into :class:`PeerLostError` (one line, exit
    75, no traceback) naming the last checkpoint; any other error passes through unchanged."""
    try:
        yield
    except RuntimeError as exc:
        dist = _dist()
        if dist is None or dist.get_world_size() == 1 or not is_peer_failure(exc):
            raise
        raise PeerLostError(peer_lost_message(exc, out, dist.get_rank(), dist.get_world_size())) from None
