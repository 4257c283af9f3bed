"""Capturing and restoring every random number generator a run uses, as JSON (for checkpoints)."""

from __future__ import annotations

import base64
import random
from typing import Any

TORCH_SEED_SPAN = 2**64  # torch.Generator.manual_seed takes seeds in [-2**63, 2**64)


def seeded(seed: Any):
    """A CPU ``torch.Generator`` seeded with any integer, the one way zoo turns a seed into a generator.

    torch refuses seeds outside [-2**63, 2**64) with a bare ``ValueError``; a user's ``--seed
    99999999999999999999`` or a derived seed (``seed * 7919 + epoch``) is folded into that range
    instead (modulo 2**64), and every seed inside it keeps the stream it always had.
    """
    import operator

    import torch

    from .errors import ZooError

    try:
        s = operator.index(seed)  # ints and numpy integers; never a float's silent truncation or a string
    except TypeError:
        raise ZooError(f"seed must be an integer, got {seed!r}"[:120]) from None
    if isinstance(seed, bool):
        raise ZooError(f"seed must be an integer, got {seed!r}")
    if not -(2**63) <= s < TORCH_SEED_SPAN:
        s %= TORCH_SEED_SPAN
    return torch.Generator().manual_seed(s)


def get_rng_state() -> dict:
    import numpy as np
    import torch

    np_state = np.random.get_state()
    return {
        "python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
        "numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]],
        "torch": base64.b64encode(torch.get_rng_state().numpy().tobytes()).decode(),
        "cuda": [base64.b64encode(s.numpy().tobytes()).decode() for s in torch.cuda.get_rng_state_all()]
        if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict) -> None:
    import numpy as np
    import torch

    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    npst = state["numpy"]
    np.random.set_state((npst[0], np.array(npst[1], dtype=np.uint32), *npst[2:]))
    decode = lambda s: torch.frombuffer(bytearray(base64.b64decode(s)), dtype=torch.uint8)  # noqa: E731
    torch.set_rng_state(decode(state["torch"]))
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([decode(s) for s in state["cuda"]])


def seed_all(seed: int) -> None:
    """Seed python's, numpy's and torch's global generators (CUDA's follow torch's)."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
