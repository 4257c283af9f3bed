"""What every benchmark shares: the machine record, interleaved timing, peak memory, tables and
a zoo training step driven through the real engine.

Why interleaved timing: the benchmarks run on shared machines whose load moves by the second.
Timing side A for a minute and then side B for a minute measures the load as much as the code;
alternating single steps (A B B A A B ...) exposes both sides to the same load, so their ratio is
meaningful even when the absolute numbers are not.

Why a fresh subprocess per side for memory: ``tracemalloc`` does not see torch's allocator, and
whatever one side allocated and freed first changes what the other side's RSS shows. Each side's
steps run alone in their own process and report two numbers (see :func:`measure_memory`).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


# ------------------------------------------------------------------ arguments and the machine
def add_common_args(parser) -> None:
    """Flags every benchmark script takes (run.py passes them through)."""
    parser.add_argument("--quick", action="store_true", help="fewer steps and sizes: a smoke run in minutes")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (auto: cuda when present)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's, or 1 when the load average is at or "
                             "above the core count: on an oversubscribed machine OpenMP waits swamp the timings)")
    parser.add_argument("--json", default=None, help="also append the results as JSON lines to this file")


def setup_torch(args):
    """Apply --threads and resolve --device; returns the torch.device."""
    import torch

    if not args.threads and busy():
        args.threads = 1
        print(f"note: load {load_average()} on {os.cpu_count()} cores; timing with 1 thread (--threads to override)",
              file=sys.stderr)
    if args.threads:
        torch.set_num_threads(args.threads)
    name = args.device
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(name)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return dev


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def busy() -> bool:
    """True when other processes already keep every core busy."""
    try:
        return os.getloadavg()[0] >= (os.cpu_count() or 1)
    except OSError:
        return False


def load_average() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def machine_info(device=None) -> dict[str, Any]:
    """The facts a reader needs to judge a table: hardware, load, versions, threads."""
    import torch

    info = {
        "cpu": cpu_model(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "load_1_5_15": load_average(), "python": platform.python_version(), "torch": torch.__version__,
    }
    try:
        import diffusers

        info["diffusers"] = diffusers.__version__
    except ImportError:
        info["diffusers"] = "not installed"
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    if device is not None:
        info["device"] = str(device)
    return info


def print_machine(device=None) -> dict[str, Any]:
    info = machine_info(device)
    print("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()), flush=True)
    return info


# ----------------------------------------------------------------------------- tables
def fmt(x: Any) -> str:
    if isinstance(x, float):
        if x == 0:
            return "0"
        return f"{x:.3g}" if abs(x) < 100 else f"{x:,.0f}"
    return str(x)


def print_table(title: str, headers: list[str], rows: list[list[Any]]) -> None:
    """A Markdown table, so the output pastes straight into docs/performance.md."""
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    pad = lambda row: " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))  # noqa: E731
    print(f"\n### {title}\n", flush=True)
    print("| " + pad(headers) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + pad(row) + " |")
    print(flush=True)


def save_json(args, record: dict) -> None:
    if getattr(args, "json", None):
        with open(args.json, "a") as f:
            f.write(json.dumps(record) + "\n")


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs else "n/a"


# ----------------------------------------------------------------------------- timing
def sync(device) -> None:
    import torch

    if getattr(device, "type", device) == "cuda":
        torch.cuda.synchronize()


def interleaved(fns: dict[str, Callable[[], Any]], steps: int, warmup: int, device) -> dict[str, list[float]]:
    """Seconds per call of each function, called in alternating order (A B, B A, A B, ...)."""
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
        sync(device)
    times: dict[str, list[float]] = {n: [] for n in names}
    for i in range(steps):
        for name in names if i % 2 == 0 else reversed(names):
            sync(device)
            t0 = time.perf_counter()
            fns[name]()
            sync(device)
            times[name].append(time.perf_counter() - t0)
    return times


def median(xs: list[float]) -> float:
    return statistics.median(xs)


# ----------------------------------------------------------------------------- memory
def measure_memory(step: Callable[[], Any], steps: int, device, kind: str = "tensors") -> float:
    """Peak memory of ``steps`` calls of ``step`` above what was in use before them, in MiB.

    ``kind="tensors"``: the peak of live tensor bytes (CUDA: ``max_memory_allocated``; CPU: the
    allocation and free events torch.profiler records, summed in time order): exact, and
    independent of the C allocator. ``kind="rss"`` (CPU): the growth of the process's peak resident
    set (``VmHWM`` after resetting it through ``/proc/self/clear_refs``), what the operating system
    sees; it also counts oneDNN caches and glibc heap fragmentation, so it depends on allocation
    history. The two need separate processes: the profiler's own records would inflate the RSS.
    """
    import gc

    import torch

    gc.collect()  # objects in reference cycles would otherwise be freed inside the measured window
    if device.type == "cuda":
        if kind == "rss":
            return float("nan")
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        for _ in range(steps):
            step()
        torch.cuda.synchronize()
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    if kind == "rss":
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            return float("nan")
        rss0 = _status_kb("VmRSS")
        for _ in range(steps):
            step()
        hwm = _status_kb("VmHWM")
        return (hwm - rss0) / 1024 if hwm and rss0 else float("nan")
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        for _ in range(steps):
            step()
    return _peak_live(prof) / 2**20


def _peak_live(prof) -> float:
    try:
        events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
        events.sort(key=lambda e: e.start_ns())
        cur = peak = 0
        for e in events:
            cur += e.nbytes()
            peak = max(peak, cur)
        return peak
    except AttributeError:  # a torch without these profiler internals
        return float("nan")


def _status_kb(key: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


MEMORY_NOTE = ("memory: MiB above the state before 3 measured steps (the first included); one fresh process per "
               "side and kind, each building both sides (the same allocation history) and stepping one. "
               "'tensors' = peak of live tensor bytes (torch.profiler allocation events on CPU, "
               "torch.cuda.max_memory_allocated on GPU): exact. 'RSS' = growth of the peak resident set "
               "(VmHWM): what the OS sees, but it also counts oneDNN caches and heap fragmentation.")


def run_probe(script: str, argv: list[str], timeout: float = 1800) -> dict[str, Any]:
    """Run ``script --probe ...`` in a fresh interpreter and read the JSON it prints last."""
    cmd = [sys.executable, str(HERE / script), *argv]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": " | ".join(tail) or f"exit {proc.returncode}"}
    return json.loads(lines[-1])


# ------------------------------------------------------------- the zoo engine, one step at a time
def zoo_engine(model: str, model_kw: dict, train_kw: dict, device, data: str = "builtin:shapes",
               model_defaults: bool = False):
    """A set-up :class:`zoo_core.engine.Engine` for ``model``, fed one fixed real batch forever.

    The step that is timed is ``engine.step()``: exactly what ``zoo train`` runs per step
    (lr schedule, every phase with zero_grad / autocast / backward / grad-norm clip / optimizer
    step, EMA when on), minus the data loader, which benchmark 4 measures on its own.
    ``model_defaults`` keeps the model's TRAIN_DEFAULTS (else EMA is off and the engine's defaults apply).
    """
    import itertools
    import tempfile

    import torch

    from zoo_core.data import DataConfig
    from zoo_core.engine import Engine
    from zoo_core.plugins import registry
    from zoo_core.train_config import TrainConfig
    from zoo_core.training import engine as make_engine

    options = {"device": str(device), "progress": False, **train_kw}
    if model_defaults:
        engine = make_engine(model, data=data, **model_kw, **options)
    else:  # the engine's own defaults, not the model's recipe
        spec = registry().model(model)
        train = TrainConfig(**{"ema": False, **options})
        engine = Engine(spec, spec.load_config_class()(**model_kw), train, DataConfig(data=data))
    engine.setup(out=tempfile.mkdtemp(prefix="zoo-bench-"))
    n = engine.micro
    items = [engine.dataset[(i % len(engine.dataset), i)] for i in range(n)]
    batch = {"image": torch.stack([it["image"] for it in items]).to(device),
             "label": torch.tensor([it["label"] for it in items], device=device),
             "caption": [it["caption"] for it in items]}
    engine.batches = itertools.repeat(batch)
    return engine


def count_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def importable(name: str) -> str | None:
    """None if ``name`` imports, else a one-line reason."""
    try:
        __import__(name)
    except Exception as exc:  # noqa: BLE001 - a broken plugin is reported, not fatal
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


def script_main(doc: str, add_args, run, argv=None, early=None) -> None:
    """The shared ``main`` of a benchmark script: common + own flags, device set-up, run, JSON records.

    ``early(args)``, when given and returning True, replaces the run (ddpm_train.py's ``--probe``).
    """
    import argparse

    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p)
    add_args(p)
    args = p.parse_args(argv)
    if early is not None and early(args):
        return
    device = setup_torch(args)
    print_machine(device)
    for rec in run(args, device):
        save_json(args, rec)
