"""A run folder, read and written through one object: :class:`Run`.

Every file a training run leaves has its name, format and write discipline here, and nowhere else::

    runs/ddpm-20261123-101500/
      config.json          the resolved options      Run.read_config / write_config
      metrics.jsonl        one JSON record per line  Run.append_metrics / metrics
      samples/step_N.png   sample grids              Run.sample_path / grids
      checkpoints/step_N/  resumable state           Run.checkpoints / latest_checkpoint / save_checkpoint /
                                                     read_checkpoint / prune_checkpoints
      final/               the saved model           Run.final / finished / write_final
      .lock                one writer at a time      Run.lock

Writers are atomic where a half-written file would mislead a later reader: config.json and checkpoints
are written beside their place and renamed into it, ``final/`` is staged and swapped in whole. A torn
last line of metrics.jsonl (a killed run) is skipped by :meth:`Run.metrics`. The format of one
checkpoint folder is :mod:`zoo_core.checkpoint`'s; the engine state that goes into it is
:mod:`zoo_core.train_state`'s.

A ``Run`` is also a path (``os.PathLike``, ``run / "x"``, ``str(run)``), so code that took the run folder
``zoo_core.train`` returned as a ``Path`` keeps working.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from . import checkpoint as ckpt
from .errors import ZooError
from .trust import parse_json

if TYPE_CHECKING:  # pragma: no cover
    from .registry import ModelSpec

STEP_PNG = re.compile(r"step_(\d+)\.png$")


def default_path(model: str) -> Path:
    """Where a run of ``model`` goes when no ``out`` is given: ``runs/<model>-<YYYYmmdd-HHMMSS>``."""
    from datetime import datetime

    return Path("runs") / f"{model}-{datetime.now():%Y%m%d-%H%M%S}"


class Run(os.PathLike):
    """The run folder at ``path`` (which need not exist yet); the one reader and writer of its files.

    Example:
        >>> import tempfile
        >>> from zoo_core import Run
        >>> run = Run(tempfile.mkdtemp())
        >>> run.append_metrics({"step": 1, "loss": float("nan")})
        >>> run.metrics(), run.checkpoints(), run.finished
        ([{'step': 1, 'loss': None, 'nonfinite': {'loss': 'nan'}}], [], False)
    """

    CONFIG = "config.json"
    METRICS = "metrics.jsonl"
    SAMPLES = "samples"
    CHECKPOINTS = "checkpoints"
    FINAL = "final"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()

    # ----------------------------------------------------------- a path too
    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    def __truediv__(self, name: str | os.PathLike[str]) -> Path:
        return self.path / name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    @property
    def name(self) -> str:
        return self.path.name

    # ------------------------------------------------------------ config.json
    def read_config(self) -> dict[str, Any] | None:
        """The run's record (``zoo_model`` and the options under ``config``, ``data``, ``train``); None if absent.

        A saved-model folder's config.json reads the same way. A file that is not a JSON object is a
        one-line ZooError naming it.
        """
        path = self.path / self.CONFIG
        if not path.is_file():
            return None
        try:
            record = parse_json(path.read_text())
        except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise ZooError(f"{path} is not valid JSON ({exc}); move it away or choose another folder") from None
        if not isinstance(record, dict):
            raise ZooError(f"{path} must hold a JSON object; move it away or choose another folder")
        return record

    def model_name(self) -> str | None:
        """The model this run trains (``zoo_model`` of its config.json), or None for a new folder."""
        name = (self.read_config() or {}).get("zoo_model")
        return name if isinstance(name, str) else None

    def write_config(self, spec: ModelSpec, model_cfg: Any, train_cfg: Any, data_cfg: Any) -> Path:
        """Record the resolved options of the run, so that re-running with the same ``out`` continues it.

        Written to a temporary file and renamed, so a crash leaves the previous record, never half of one.
        """
        from .config import to_dict

        record = {"zoo_model": spec.name, "distribution": spec.distribution, "version": spec.version,
                  "config": to_dict(model_cfg), "train": to_dict(train_cfg), "data": to_dict(data_cfg)}
        self.path.mkdir(parents=True, exist_ok=True)
        ckpt.write_text_atomic(self.path / self.CONFIG, json.dumps(record, indent=2) + "\n")
        return self.path / self.CONFIG

    def check_continues(self, model: str, resume: bool) -> None:
        """Refuse to train ``model`` into a folder of another model's run, or to ``resume`` with nothing to resume."""
        if resume and not self.checkpoints():
            raise ZooError(f"--resume: no checkpoint in {self.checkpoint_dir}; drop --resume to start a new run")
        prev = self.model_name()
        if prev and prev != model:
            raise ZooError(f"{self.path} is a {prev} run; choose another --out for {model}")

    # ---------------------------------------------------------- metrics.jsonl
    def append_metrics(self, record: dict[str, Any]) -> None:
        """Append one record as a strict JSON line (non-finite numbers become null, flagged).

        After a killed run the file may end in a torn line: the record then starts on a new line, so that
        it is not glued to the fragment and lost with it.
        """
        from .loggers import jsonl

        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / self.METRICS, "a+b") as f:
            end = f.seek(0, os.SEEK_END)
            torn = end > 0 and f.seek(end - 1) >= 0 and f.read(1) != b"\n"
            f.write((("\n" if torn else "") + jsonl.dumps(record) + "\n").encode())

    def metrics(self) -> list[dict[str, Any]]:
        """Every record of metrics.jsonl in order ([] before the first); a torn last line is skipped."""
        from .loggers import jsonl

        path = self.path / self.METRICS
        return jsonl.read(path) if path.is_file() else []

    # ---------------------------------------------------------------- samples
    def sample_path(self, step: int) -> Path:
        """Where the sample grid of ``step`` goes (``samples/step_00001234.png``)."""
        return self.path / self.SAMPLES / f"step_{step:08d}.png"

    def grids(self) -> list[tuple[int, Path]]:
        """The sample grids written so far, as (step, path) in step order."""
        folder = self.path / self.SAMPLES
        found = ((STEP_PNG.search(p.name), p) for p in folder.glob("step_*.png")) if folder.is_dir() else ()
        return sorted((int(m.group(1)), p) for m, p in found if m)

    # ------------------------------------------------------------ checkpoints
    @property
    def checkpoint_dir(self) -> Path:
        return self.path / self.CHECKPOINTS

    def checkpoints(self) -> list[Path]:
        """The checkpoint folders, oldest first (complete or not: :meth:`read_checkpoint` verifies)."""
        return ckpt.list_checkpoints(self.checkpoint_dir)

    def save_checkpoint(self, step: int, tensors: dict[str, Any], state: dict[str, Any], keep: int = 3) -> Path:
        """Write checkpoint ``step`` atomically (staged, renamed into place) and keep only the newest ``keep``."""
        return ckpt.save(self.checkpoint_dir, step, tensors, state, keep)

    def read_checkpoint(self, which: int | Path) -> tuple[dict, dict]:
        """The tensors and state of checkpoint ``which`` (a step or a folder); ValueError if corrupt."""
        path = which if isinstance(which, Path) else self.checkpoint_dir / ckpt.folder_name(which)
        return ckpt.read(path)

    def latest_checkpoint(self) -> tuple[Path, dict, dict] | None:
        """The newest checkpoint that verifies as (folder, tensors, state); corrupt newer ones are warned about."""
        return ckpt.latest(self.checkpoint_dir)

    def prune_checkpoints(self, keep: int) -> list[Path]:
        """Delete all but the newest ``keep`` checkpoints; returns the deleted folders."""
        return ckpt.prune(self.checkpoint_dir, keep)

    # ------------------------------------------------------------------ final
    @property
    def final(self) -> Path:
        """The saved model of a finished run (load it with ``from_pretrained(run)``)."""
        return self.path / self.FINAL

    @property
    def finished(self) -> bool:
        return (self.final / "config.json").is_file()

    def write_final(self, write: Callable[[Path], Any]) -> Path:
        """Replace ``final/`` as a whole: ``write(folder)`` fills a staging folder that is then swapped in.

        A failure while writing (a full disk) leaves the previous ``final/`` as it was.
        """
        with ckpt.staging(self.path, self.FINAL, "the final model") as tmp:
            write(tmp)
            shutil.rmtree(self.final, ignore_errors=True)
            tmp.rename(self.final)
        return self.final

    # ---------------------------------------------------------------- writing
    def lock(self) -> IO[str] | None:
        """Become the one writer of this folder (see :mod:`zoo_core.runlock`); keep the handle while writing.

        Creates the folder, fails in one line if it is unwritable or held by another process, and then
        removes the temporary folders a killed writer left (safe only now that no live writer owns one).
        """
        from . import runlock

        handle = runlock.acquire(self.path)
        ckpt.remove_stale_temps([self.path, self.checkpoint_dir])
        return handle
