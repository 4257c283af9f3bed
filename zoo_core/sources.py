"""Is SRC a local folder or a Hub repo id? Run paths (``runs/ddpm``) look like repo ids, so decide here.

A source is read as a local path when it exists, starts like a path (``./``, ``../``, ``/``, ``~``),
ends with ``/``, has an existing parent folder (``runs/ddpmm`` when ``runs/`` exists), has no ``owner/``
part, or its first part is a near-miss of a local folder (``rnus/x`` next to ``runs/``). A missing local
path is a "no such run folder" error with the closest siblings. Only what is left is a Hub repo id;
``hf://owner/name`` always is one.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from .errors import ZooError

REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
HUB_PREFIX = "hf://"


def _siblings(path: Path) -> list[str]:
    parent = path.parent if str(path.parent) else Path(".")
    try:
        return sorted(p.name for p in parent.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []


def _close_paths(path: Path) -> list[str]:
    """Existing paths a typo away from ``path`` in any of its parts: ``rnus/gann`` -> ``runs/gan``."""
    found = [Path(path.anchor) if path.is_absolute() else Path()]
    for part in path.parts[1:] if path.is_absolute() else path.parts:
        step = []
        for base in found:
            if part == ".." or (base / part).exists():
                step.append(base / part)
            else:
                step += [base / m for m in difflib.get_close_matches(part, _siblings(base / part), n=3, cutoff=0.6)]
        found = step[:3]
    return [str(p) for p in found if p != path]


def _missing(src: str, path: Path) -> ZooError:
    close = _close_paths(path)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    hub = f" (for the Hub repo, write {HUB_PREFIX}{src})" if REPO_ID.match(src) else ""
    return ZooError(f"no such run folder {src}{hint}{hub}")


def _near_local_folder(first: str) -> bool:
    return bool(difflib.get_close_matches(first, _siblings(Path(first)), n=1, cutoff=0.75))


def classify(src: str | Path) -> tuple[str, str | Path]:
    """``("local", Path)`` or ``("hub", repo_id)`` for a model source; a missing local path is a ZooError.

    Args:
        src: a folder, a run folder, ``owner/name`` or ``hf://owner/name``.

    Returns:
        The kind and the path or repo id.

    Example:
        >>> classify("hf://google/ddpm-cifar10-32")
        ('hub', 'google/ddpm-cifar10-32')
        >>> classify("./no-such-run")
        Traceback (most recent call last):
        zoo_core.errors.ZooError: no such run folder ./no-such-run
    """
    text = str(src)
    if text.startswith(HUB_PREFIX):
        repo = text[len(HUB_PREFIX):].strip("/")
        if not REPO_ID.match(repo):
            raise ZooError(f"{text} is not a Hub repo id (expected {HUB_PREFIX}owner/name)")
        return "hub", repo
    path = Path(text).expanduser()
    if path.exists():  # a folder, or a file (a published checkpoint an importer may recognise)
        return "local", path
    path_like = (not isinstance(src, str) or text.startswith((".", "/", "~")) or text.endswith(("/", "\\"))
                 or not REPO_ID.match(text) or path.parent.is_dir() and str(path.parent) != "."
                 or _near_local_folder(text.split("/", 1)[0]))
    if path_like:
        raise _missing(text, path)
    return "hub", text
