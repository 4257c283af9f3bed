"""One writer per run folder: an OS lock on ``<out>/.lock``, taken before anything else is written.

Two trainings into one ``--out`` would interleave checkpoints, overwrite each other's ``config.json`` and
write every metrics line twice. ``fcntl.flock`` is released by the OS when the holder dies (even on
``kill -9``), so a stale lock never needs clearing by hand; the file's text (pid and host) only serves the
message. A write probe in the same place turns a read-only or missing-permission ``--out`` into a one-line
error before the model is built.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import IO

from .errors import ZooError


def _fail(out: Path, exc: OSError) -> ZooError:
    return ZooError(f"cannot write to {out} ({exc.strerror or exc}); choose a writable --out")


def acquire(out: Path) -> IO[str] | None:
    """Create ``out`` if needed, check it is writable and lock it; returns the open lock file to keep.

    Raises ZooError naming the holder when another process already trains into ``out``. Returns None
    where the platform has no ``fcntl`` (the lock is then advisory only by the probe).
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
        handle = open(out / ".lock", "a+")
    except OSError as exc:
        raise _fail(out, exc) from None
    try:
        import fcntl
    except ImportError:  # Windows: no flock; the probe above still catches unwritable folders
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise ZooError(f"{out} is being written by {holder}; wait for it, stop it, or choose another --out") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
    handle.flush()
    return handle
