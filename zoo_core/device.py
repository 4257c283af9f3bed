"""Device, precision and torch.distributed set-up: chosen once, the same way for every family."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

from .errors import ZooError


def available_memory() -> int | None:
    """Bytes a new CPU allocation can still get (Linux's MemAvailable, else free pages); None where unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def pick_device(name: str = "auto"):
    """``auto`` picks cuda > mps > cpu; an explicit device that is not there is a clear error."""
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise ZooError(f"--device {name!r} is not a device name (use auto, cpu, cuda, cuda:1 or mps)") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ZooError("--device cuda was asked for but no CUDA GPU is visible; use --device cpu or auto")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ZooError("--device mps was asked for but MPS is not available; use --device cpu or auto")
    return dev


def pick_dtype(precision: str, device):
    """The autocast dtype (None for fp32). ``auto``: bf16 on a GPU that has it, else fp32."""
    import torch

    if precision == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return None
    if precision == "fp16" and device.type == "cpu":
        raise ZooError("--precision fp16 needs a GPU; use bf16 or fp32 on the CPU")
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def autocast(device, dtype):
    import torch

    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


@dataclass
class Dist:
    """Where this process stands in a torch.distributed job (rank 0 of 1 when there is none)."""

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device) -> Dist:
    """Join the process group torchrun describes in the environment; a no-op otherwise."""
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    if not dist.is_initialized():
        from .distributed import init_process_group  # keeps an elastic restart's store keys apart

        init_process_group("nccl" if device.type == "cuda" else "gloo", device)
    return Dist(dist.get_rank(), dist.get_world_size())
