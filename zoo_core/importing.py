"""Tools every importer shares: bounded JSON, tensors-only reading, checked state dicts, atomic writes.

A published checkpoint is data from a stranger, so importers never allocate from its claims alone:
they build the zoo model on the ``meta`` device, compare every converted tensor's shape with it, and
only then materialise the model and copy the weights in. Pickled files (``.bin/.pt/.pth``) are read
with ``torch.load(weights_only=True, mmap=True)``, which admits tensors and plain containers only;
anything else is refused with one line and nothing in the file is executed.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import ZooError
from .rng import seeded
from .safeload import check_finite
from .trust import parse_json

MAX_JSON_BYTES = 1 << 20  # configs are a few KB; a bigger "config" is not one
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt")


def read_json(path: Path, what: str = "config", limit: int | None = None) -> dict[str, Any]:
    """A JSON object from ``path`` (at most ``limit`` bytes, default 1 MiB), or a one-line ZooError."""
    limit = MAX_JSON_BYTES if limit is None else limit
    try:
        size = path.stat().st_size
    except OSError:
        raise ZooError(f"{path} is missing (expected the {what})") from None
    if size > limit:
        raise ZooError(f"{path} is {size} bytes, too big for a {what} (at most {limit})")
    try:
        data = parse_json(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ZooError(f"{path} is not valid JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ZooError(f"{path} must hold a JSON object (the {what})")
    return data


def read_tensors(path: Path, stubs: tuple[str, ...] = (), key: str | None = None) -> Mapping[str, Any]:
    """The tensors of a safetensors or pickled state dict, memory-mapped where possible (CPU).

    A pickle that needs anything besides tensors and plain containers (a class, a function) is
    refused by ``weights_only=True``: one ZooError line, and nothing from the file runs. ``stubs``
    names classes (``"package.module.Class"``) a format is known to pickle beside its weights (a
    training config object): they are admitted as inert stand-ins of ours that only hold attributes,
    never the real class. ``key`` picks the state dict out of a checkpoint dict (e.g. ``"avgG"``).
    """
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")
        except (SafetensorError, OSError) as exc:
            raise ZooError(f"{path} is not a valid safetensors file ({str(exc).splitlines()[0]})") from None
    obj = read_checkpoint(path, stubs)
    if key is not None:
        if not isinstance(obj, dict) or key not in obj:
            raise ZooError(f"{path} has no {key!r} entry (not the checkpoint layout this format expects)")
        obj = obj[key]
    return _state_dict_of(obj, path)


def read_checkpoint(path: Path, stubs: tuple[str, ...] = ()) -> Any:
    """``torch.load(weights_only=True)`` of ``path`` on the CPU, with ``stubs`` admitted as inert classes."""
    import torch

    classes = []
    for full in stubs:
        module, _, name = full.rpartition(".")
        classes.append(type(name, (), {"__module__": module, "__qualname__": name,
                                       "__doc__": f"an inert stand-in for {full}: attributes only"}))
    with torch.serialization.safe_globals(classes):
        try:
            return torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as exc:  # not a zip archive: old-style pickles cannot be memory-mapped
            if "mmap" not in str(exc) and "zip" not in str(exc):
                raise ZooError(f"{path} is not a readable checkpoint ({_first_line(exc)})") from None
            return _load_pickle(path)
        except Exception as exc:  # noqa: BLE001 - UnpicklingError and friends: refuse, never retry unsafely
            raise _refused(path, exc) from None


def entry_state(obj: Any, path: Path, keys: tuple[str, ...], marker: str, what: str) -> dict[str, Any]:
    """The first of ``keys`` in a checkpoint dict holding a state dict with tensor ``marker`` (or ``obj``
    itself when it is that state dict); else a ZooError saying the file is not ``what``."""
    import torch

    if isinstance(obj, dict) and marker not in obj:
        obj = next((obj[k] for k in keys if isinstance(obj.get(k), dict) and obj[k]), None)
    if not isinstance(obj, dict) or marker not in obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ZooError(f"{path} is not {what} (no {'/'.join(keys)} weights with {marker})")
    return obj


def stub_config(obj: Any, key: str = "config") -> dict[str, Any]:
    """The attributes of the inert stand-in a checkpoint dict pickles under ``key`` (``{}`` when there is none).

    Formats such as pytorch_GAN_zoo's pickle their training config object beside the weights; it says
    what shapes cannot (activations, class inputs, a mid-fade blend), so importers check it.
    """
    config = obj.get(key) if isinstance(obj, dict) else None
    return dict(vars(config)) if config is not None and hasattr(config, "__dict__") else {}


def _load_pickle(path: Path) -> Any:
    import torch

    try:
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001
        raise _refused(path, exc) from None


def _refused(path: Path, exc: BaseException) -> ZooError:
    """Why a pickle was refused: the Python object it names (torch's 'GLOBAL x.y' line) or the opcode torch
    does not admit, found under torch's paragraph of advice to load it unsafely; else the error's first line."""
    import re

    from .trust import shown

    found = re.search(r"GLOBAL ([\w.]+)", str(exc))
    other = re.search(r"Unsupported [\w ]+", str(exc))  # e.g. 'Unsupported operand 149': a raw pickle opcode
    why = (f"it pickles the Python object {shown(found.group(1))}" if found else
           f"a pickle instruction tensors never need: {other.group(0).strip()[:60]}" if other else
           _first_line(exc)[:160])
    return ZooError(f"{path} needs more than tensors to load ({why}); zoo reads pickles with "
                    "weights_only=True and never runs code from a file: convert it to safetensors where you trust it")


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__


def _state_dict_of(obj: Any, path: Path) -> dict[str, Any]:
    """The flat name -> tensor dict in a loaded checkpoint (also under a 'state_dict'/'model' key)."""
    import torch

    for key in ("state_dict", "model", "ema", "module"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict) and obj[key] \
                and all(isinstance(v, torch.Tensor) for v in obj[key].values()):
            obj = obj[key]
            break
    if not isinstance(obj, dict) or not obj or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                       for k, v in obj.items()):
        raise ZooError(f"{path} does not hold a state dict (a mapping of names to tensors)")
    return obj


def checkpoint_file(path: str | Path, what: str) -> Path:
    """``path`` as a Path when it is a file, else a one-line ZooError naming ``what`` was expected there."""
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"{path} is not a file (expected {what})")
    return path


def is_release(path: str | Path, names: Mapping[str, Any], suffixes: tuple[str, ...] = (".pth", ".pt")) -> bool:
    """Whether ``path`` is a file whose stem is one of a format's released ``names`` (detection by name only)."""
    path = Path(path)
    return path.is_file() and path.suffix in suffixes and path.stem in names


def first_file(folder: Path, names: tuple[str, ...]) -> Path | None:
    """The first of ``names`` that exists in ``folder`` (safetensors names should come first)."""
    return next((folder / n for n in names if (folder / n).is_file()), None)


def load_checked(build: Callable[[], Any], state: Mapping[str, Any], source: str):
    """Build a model from ``build()`` and load ``state`` into it strictly, checking before allocating.

    ``build`` is called once under the ``meta`` device to learn the expected names and shapes; a
    missing, unexpected or misshapen tensor is a ZooError naming it. Only then is the real model built.
    """
    import torch

    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in build().state_dict().items()}
    check_state(expected, {k: tuple(v.shape) for k, v in state.items()}, source)
    check_finite(state, source)
    model = build()
    model.load_state_dict(dict(state), strict=True)
    return model


def check_state(expected: Mapping[str, tuple], got: Mapping[str, tuple], source: str) -> None:
    """ZooError unless ``got`` has exactly the names and shapes of ``expected``."""
    missing = sorted(set(expected) - set(got))
    unexpected = sorted(set(got) - set(expected))
    if missing or unexpected:
        parts = ([f"missing {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}"] if missing else []) + \
                ([f"unexpected {', '.join(unexpected[:3])}{' ...' if len(unexpected) > 3 else ''}"]
                 if unexpected else [])
        raise ZooError(f"the weights of {source} do not fit the converted architecture: {'; '.join(parts)}")
    for name in sorted(expected):
        if tuple(expected[name]) != tuple(got[name]):
            raise ZooError(f"the weights of {source} do not fit the converted architecture: {name} has shape "
                           f"{tuple(got[name])}, expected {tuple(expected[name])}")


def seeded_state_dict(shapes: Mapping[str, Sequence[int]], seed: int = 0, std: float = 0.1,
                      bias_std: float | None = None) -> dict[str, Any]:
    """Deterministic stand-in weights for a state dict of ``shapes``: what golden-file tests load.

    A golden file stores only key shapes and outputs; the script that ran the original code and the
    test that checks zoo against it both rebuild the same weights here, so none are stored and the
    two cannot drift apart. Tensors are drawn in sorted key order from one CPU
    ``seeded(seed)``: floats N(0, std^2), names ending in ``bias`` N(0, bias_std^2)
    when ``bias_std`` is given. Batch-norm buffers stay meaningful: ``running_var`` is U(0.5, 1.5) from
    the same generator (a variance must be positive) and ``num_batches_tracked`` is 0 (it draws nothing).
    """
    import torch

    if not std > 0 or (bias_std is not None and not bias_std > 0):
        raise ZooError(f"seeded_state_dict needs std > 0 and bias_std > 0 (or None), got {std} and {bias_std}")
    g = seeded(seed)
    out: dict[str, Any] = {}
    for key in sorted(shapes):
        shape = tuple(int(n) for n in shapes[key])
        if key.endswith("num_batches_tracked"):
            out[key] = torch.tensor(0)
        elif key.endswith("running_var"):
            out[key] = torch.rand(shape, generator=g) + 0.5
        else:
            scale = bias_std if bias_std is not None and key.endswith("bias") else std
            out[key] = torch.randn(shape, generator=g) * scale
    return out


def write_model(model, out: Path, card: dict[str, Any] | None = None) -> Path:
    """``save_pretrained`` into ``out`` atomically: written beside it, then renamed into place."""
    from .hub import save_pretrained

    out = Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise ZooError(f"--out {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / "config.json").is_file() or not (out / "model.safetensors").is_file():
            raise ZooError(f"--out {out} is a folder with other files in it; choose an empty or new folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        save_pretrained(model, tmp, card=card)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
