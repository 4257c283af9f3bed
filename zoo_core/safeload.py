"""Build a saved model without trusting its files: shapes are checked before anything is allocated.

The model is first built on the ``meta`` device (no memory), its state-dict shapes are compared
with the safetensors header (read without loading a tensor), and only then are the weights read
and assigned (``load_state_dict(assign=True)``). A config that builds a 100 GB network next to a
1 MB file therefore costs nothing but the error naming the first tensor that does not match.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ZooError, first_line


def header_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape from a safetensors header; no tensor data is read."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), "pt", device="cpu") as f:
            return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise ZooError(f"{path} is not a valid safetensors file ({first_line(exc)})") from None


def _dims(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def check_shapes(expected: dict[str, tuple[int, ...]], found: dict[str, tuple[int, ...]], path: Path,
                 what: str) -> None:
    """Raise a one-line ZooError naming the first tensor whose name or shape differs."""
    problems = []
    for name, shape in expected.items():
        if name not in found:
            problems.append(f"tensor {name!r} {_dims(shape)} is missing from the file")
        elif tuple(found[name]) != tuple(shape):
            problems.append(f"tensor {name!r} is {_dims(found[name])} in the file but {what} builds {_dims(shape)}")
    extra = [name for name in found if name not in expected]
    if extra:
        problems.append(f"the file has tensor {extra[0][:80]!r}, which {what} does not use")
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ZooError(f"weights in {path} do not match {what}: {problems[0]}{more}")


def check_finite(tensors: Mapping[str, Any], path: Path | str) -> None:
    """Refuse weights holding NaN or inf: every sample drawn from them would be black or noise.

    zoo's trainers skip non-finite updates, so such a file is damaged or comes from a run that diverged
    elsewhere; saying so at load beats a grid of black squares and a clean exit.
    """
    import torch

    bad = [k for k, v in tensors.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
        raise ZooError(f"weights in {path} hold NaN or inf values (tensor {bad[0][:80]!r}{more}): the file is damaged "
                       "or was saved from a diverged run; nothing useful can be sampled from it")


def _meta_left(module) -> bool:
    import torch

    return any(t.is_meta for t in list(module.parameters()) + list(module.buffers())) or any(
        isinstance(v, torch.Tensor) and v.is_meta for m in module.modules() for v in vars(m).values())


def _assign(model, tensors: dict) -> None:
    """Weights into ``model`` in the model's own dtypes (a float16 file loads into a float32 model)."""
    state = model.state_dict()
    tensors = {k: v.to(state[k].dtype) if v.dtype != state[k].dtype else v for k, v in tensors.items()}
    model.load_state_dict(tensors, strict=True, assign=True)


def load_checked(build, path: Path, what: str) -> Any:
    """``build()`` on the meta device, shapes checked against ``path``'s header, then the weights assigned.

    A model whose construction keeps tensors outside its state dict (non-persistent buffers, cached
    tables) is rebuilt on the CPU once its shapes are known to match, then loaded the same way.
    """
    import torch
    from safetensors.torch import load_file

    found = header_shapes(path)
    try:
        with torch.device("meta"):
            model = build()
    except (NotImplementedError, RuntimeError):
        model = None  # construction that computes on tensors: checked after a real build below
    if model is not None:
        state = model.state_dict()
        check_shapes({k: tuple(v.shape) for k, v in state.items()}, found, path, what)
    tensors = load_file(str(path))
    check_finite(tensors, path)
    if model is not None:
        _assign(model, tensors)
        if not _meta_left(model):
            return model
    model = build()
    check_shapes({k: tuple(v.shape) for k, v in model.state_dict().items()}, found, path, what)
    _assign(model, tensors)
    return model
