"""Checkpoints that survive crashes: written to a temporary folder, renamed into place, verified.

A checkpoint is a folder ``checkpoints/step_00001234/`` holding ``tensors.safetensors`` (weights,
EMA weights, optimizer state) and ``state.json`` (step, RNG states, data position, schedule,
scaler, the trainer's own state, and a SHA-256 of the tensor file). ``state.json`` is written
last, so a folder without a valid one is incomplete and skipped.

This module is the format of one checkpoint folder; a run's checkpoints are reached through
:class:`zoo_core.runs.Run`, and what the engine puts in them is :mod:`zoo_core.train_state`.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import ZooError
from .trust import parse_json

PREFIX = "step_"
TEMP = ".tmp-"  # what a writer's temporary files and folders start with (cleared by remove_stale_temps)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def flatten_optimizer(name: str, state: dict) -> tuple[dict, dict]:
    """Split an optimizer state_dict into safetensors-able tensors and JSON-able rest."""
    import torch

    tensors, rest = {}, {"param_groups": state["param_groups"], "state": {}}
    for idx, st in state["state"].items():
        rest["state"][str(idx)] = {}
        for k, v in st.items():
            if isinstance(v, torch.Tensor):
                tensors[f"optim.{name}.{idx}.{k}"] = v
            else:
                rest["state"][str(idx)][k] = v
    return tensors, rest


def unflatten_optimizer(name: str, tensors: dict, rest: dict) -> dict:
    state: dict[int, dict] = {int(i): dict(v) for i, v in rest["state"].items()}
    prefix = f"optim.{name}."
    for key, v in tensors.items():
        if key.startswith(prefix):
            idx, k = key[len(prefix):].split(".", 1)
            state.setdefault(int(idx), {})[k] = v
    return {"state": state, "param_groups": rest["param_groups"]}


@contextmanager
def staging(parent: Path, name: str, what: str) -> Iterator[Path]:
    """A temporary folder beside its final place, unique to this writer and removed if writing fails.

    A disk error (full, read-only, permission) becomes a one-line ZooError that says earlier files are
    intact: the caller renames the folder into place only once everything in it was written.
    """
    tmp = parent / f"{TEMP}{name}-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        yield tmp
    except OSError as exc:
        raise ZooError(f"could not write {what} to {parent} ({exc.strerror or exc}); what was written before is "
                       "intact: free some space or fix the permissions, then re-run to resume") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``path`` through a temporary file beside it and a rename: a reader sees the old file or the new one."""
    tmp = path.with_name(f"{TEMP}{path.name}-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def remove_stale_temps(parents: Iterable[Path]) -> list[Path]:
    """Remove the temporary files and folders a killed writer left in ``parents``.

    :func:`staging` removes its folder on any error, but not after kill -9 or a power loss. Call only
    while holding the run lock (:mod:`zoo_core.runlock`): then no live writer owns one of them.
    """
    removed = []
    for parent in parents:
        if parent.is_dir():
            for p in parent.iterdir():
                if not p.name.startswith(TEMP) or p.is_symlink():
                    continue
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                elif p.is_file():  # a config.json being replaced
                    p.unlink(missing_ok=True)
                else:
                    continue
                removed.append(p)
    return removed


def save(root: Path, step: int, tensors: dict[str, Any], state: dict[str, Any], keep: int = 3) -> Path:
    """Write checkpoint ``step`` atomically under ``root`` and keep only the newest ``keep``."""
    from safetensors.torch import save_file

    final = root / folder_name(step)
    with staging(root, final.name, f"checkpoint {step}") as tmp:
        tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
        save_file(tensors, tmp / "tensors.safetensors")
        state = dict(state, step=step, sha256=_sha256(tmp / "tensors.safetensors"))
        with open(tmp / "state.json", "w") as f:
            json.dump(state, f)
            f.flush()
            os.fsync(f.fileno())
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    prune(root, keep)
    return final


def prune(root: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` checkpoints under ``root`` (``keep`` < 1 deletes none)."""
    old = list_checkpoints(root)[:-keep] if keep > 0 else []
    for path in old:
        shutil.rmtree(path, ignore_errors=True)
    return old


def folder_name(step: int) -> str:
    """The name of checkpoint ``step``'s folder (``step_00001234``); :func:`step_of` reads it back."""
    return f"{PREFIX}{step:08d}"


def step_of(path: Path) -> int:
    """The step of a checkpoint folder, from its name (``step_00001234`` -> 1234)."""
    return int(path.name[len(PREFIX):])


def list_checkpoints(root: Path) -> list[Path]:
    """The ``step_N`` folders under ``root``, oldest first."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith(PREFIX))


COUNTERS = ("position", "lr_scale", "ema_updates")  # what the checksum of the tensors does not cover


def _counter_ok(key: str, value: Any) -> bool:
    if key == "lr_scale":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < float("inf")
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def read(path: Path) -> tuple[dict, dict]:
    """Load and verify one checkpoint; raises ValueError if it is incomplete or corrupt."""
    from safetensors.torch import load_file

    try:
        state = parse_json((path / "state.json").read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"state.json unreadable ({exc})") from None
    if not isinstance(state, dict) or state.get("step") != step_of(path):  # save() writes both from one step
        raise ValueError(f"state.json does not hold step {step_of(path)}, the step its folder is named for")
    bad = [key for key in COUNTERS if key in state and not _counter_ok(key, state[key])]
    if bad:
        raise ValueError(f"state.json holds an invalid {bad[0]} ({str(state[bad[0]])[:40]})")
    tfile = path / "tensors.safetensors"
    if not tfile.is_file() or _sha256(tfile) != state.get("sha256"):
        raise ValueError("tensors.safetensors is missing, truncated or altered (checksum mismatch)")
    try:
        tensors = load_file(tfile)
    except Exception as exc:  # noqa: BLE001 - safetensors raises several types
        raise ValueError(f"tensors.safetensors unreadable ({exc})") from None
    return tensors, state


def latest(root: Path) -> tuple[Path, dict, dict] | None:
    """The newest checkpoint that verifies; corrupt newer ones are reported and skipped."""
    for path in reversed(list_checkpoints(root)):
        try:
            tensors, state = read(path)
        except ValueError as exc:
            warnings.warn(f"checkpoint {path.name} is corrupt and was skipped: {exc}", stacklevel=2)
            continue
        return path, tensors, state
    return None
