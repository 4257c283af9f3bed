"""Where ``zoo sample`` writes: one decision per ``--out``, and never a silent overwrite.

* a path with an image suffix (``.png``, ``.jpg``, ``.jpeg``, ``.webp``; ``.gif`` for interpolations)
  is one grid (or one animation);
* a path without a suffix, an existing folder or one ending in ``/`` is a folder of PNGs, one per image;
* any other suffix (``x.txt``) is an error: it is neither a picture nor clearly a folder;
* an existing file (or a folder holding files we would write) needs ``--force``; when ``--out`` is not
  given, the default ``samples.png`` becomes ``samples-1.png``, ``samples-2.png``... instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import ZooError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
DEFAULT = "samples.png"


MAX_GRID_IMAGES = 1024  # 32 x 32 tiles: past that a grid is unreadable and, at 256 px, a gigapixel file


@dataclass(frozen=True)
class OutputPlan:
    """``kind`` is ``"grid"``, ``"gif"`` or ``"folder"``; ``path`` where it goes."""

    kind: str
    path: Path


def _kind(out: str, animation: bool) -> str:
    path = Path(out).expanduser()
    suffix = path.suffix.lower()
    if out.endswith(("/", "\\")) or path.is_dir() or not suffix:
        return "folder"
    if suffix in IMAGE_SUFFIXES:
        return "grid"
    if suffix == ".gif" and animation:
        return "gif"
    allowed = ", ".join(IMAGE_SUFFIXES + ((".gif",) if animation else ()))
    raise ZooError(f"--out {out}: expected an image file ({allowed}) for one grid, or a folder for one PNG per "
                   "image")


def plan_output(out: str | None, n: int, force: bool = False, animation: bool = False) -> OutputPlan:
    """Decide what ``--out`` means and check nothing is overwritten without ``force``.

    Args:
        out: the ``--out`` value, or None for the default (``samples.png``, numbered if taken).
        n: how many images a folder will receive (``00000.png`` ...).
        force: overwrite existing files.
        animation: ``--interpolate`` (``.gif`` allowed).

    Returns:
        The :class:`OutputPlan`.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> tmp = Path(tempfile.mkdtemp())
        >>> plan_output(str(tmp / "grid.png"), 4).kind, plan_output(str(tmp / "imgs"), 4).kind
        ('grid', 'folder')
        >>> (tmp / "grid.png").touch()
        >>> plan_output(str(tmp / "grid.png"), 4)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        zoo_core.errors.ZooError: --out .../grid.png exists: pass --force to overwrite it, or choose another --out
        >>> plan_output(str(tmp / "x.txt"), 4)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        zoo_core.errors.ZooError: --out .../x.txt: expected an image file (.png, .jpg, .jpeg, .webp) for one grid, ...
    """
    kind = "grid" if out is None else _kind(out, animation)
    if kind == "grid" and n > MAX_GRID_IMAGES:
        raise ZooError(f"--n {n} is too many images for one grid picture (at most {MAX_GRID_IMAGES}): write them "
                       f"to a folder, one PNG each, with --out {Path(out or DEFAULT).stem}/")
    if out is None:
        path = Path(DEFAULT)
        i = 0
        while (path if i == 0 else path.with_name(f"{path.stem}-{i}{path.suffix}")).exists():
            i += 1
        return OutputPlan("grid", path if i == 0 else path.with_name(f"{path.stem}-{i}{path.suffix}"))
    path = Path(out).expanduser()
    if kind == "folder":
        if path.exists() and not path.is_dir():
            raise ZooError(f"--out {out} exists and is not a folder")
        names = {p.name for p in path.iterdir()} if path.is_dir() else set()  # one listing, whatever --n is
        taken = sorted(name for name in names if name.endswith(".png") and name[:-4].isdigit()
                       and name == f"{int(name[:-4]):05d}.png" and int(name[:-4]) < n)
        if taken and not force:
            raise ZooError(f"--out {out} already holds {len(taken)} of the files to write (e.g. {taken[0]}): "
                           "pass --force to overwrite them, or choose another --out")
        return OutputPlan(kind, path)
    if path.exists() and not force:
        raise ZooError(f"--out {out} exists: pass --force to overwrite it, or choose another --out")
    return OutputPlan(kind, path)
