"""Benchmark 5: ``zoo --help`` and ``zoo list`` start-up time, and that neither imports torch.

Each command runs as a fresh subprocess of the installed console script (every installed plugin
is loaded through its entry point, as a user's shell would do it); the table gives the median
wall time next to a bare ``python -c pass`` for scale. A second run of each under
``python -X importtime`` lists every module imported: torch (or numpy, PIL, diffusers) appearing
there is a failure, and the slowest imports are printed so a regression points at its cause.

    python benchmarks/cli_startup.py
    python benchmarks/cli_startup.py --runs 10 --limit 1.0
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import common

HEAVY = ("torch", "torchvision", "numpy", "PIL", "diffusers", "safetensors", "huggingface_hub")
COMMANDS = {"zoo --help": ["--help"], "zoo list": ["list"]}


def zoo_script() -> list[str]:
    """How to start ``zoo``: the console script beside this interpreter, else ``python -m zoo_core``."""
    script = Path(sys.executable).with_name("zoo")
    if script.exists():
        return [sys.executable, str(script)]
    found = shutil.which("zoo")
    return [sys.executable, found] if found else [sys.executable, "-m", "zoo_core"]


def wall(cmd: list[str], runs: int) -> tuple[float, int]:
    times, code = [], 0
    env = {**os.environ, "COLUMNS": "100"}
    for _ in range(runs):
        t0 = time.perf_counter()
        code = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env).returncode
        times.append(time.perf_counter() - t0)
    return statistics.median(times), code


def imports(cmd: list[str]) -> tuple[set[str], list[tuple[str, float]]]:
    """Every module ``cmd`` imports, and its top-level imports with cumulative seconds, slowest first."""
    proc = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], capture_output=True, text=True)
    every, top = set(), []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        _, cumulative, raw = line.split(":", 1)[1].split("|")
        name = raw[1:]  # one space after the bar; deeper imports are indented further
        every.add(name.strip())
        if not name.startswith(" "):
            top.append((name, int(cumulative) / 1e6))
    return every, sorted(top, key=lambda kv: -kv[1])


def run(args, device=None) -> list[dict]:
    runs = args.runs or (3 if args.quick else 7)
    base = zoo_script()
    python_t, _ = wall([sys.executable, "-c", "pass"], runs)
    rows, records, failed = [["python -c pass", python_t, "-", "-", "(baseline)"]], [], []
    for name, argv in COMMANDS.items():
        cmd = base + argv
        t, code = wall(cmd, runs)
        every, top_level = imports(cmd)
        heavy = sorted({m.split(".")[0] for m in every} & set(HEAVY))
        top = ", ".join(f"{m} {sec * 1000:.0f}ms" for m, sec in top_level[:4])
        ok = code == 0 and not heavy and t < args.limit
        if not ok:
            failed.append(name)
        rows.append([name, t, "yes: " + ", ".join(heavy) if heavy else "no", "ok" if ok else "FAIL", top])
        records.append({"bench": "cli_startup", "command": name, "wall_s": t, "exit": code, "heavy_imports": heavy})
    from importlib.metadata import entry_points

    plugins = sorted(ep.name for ep in entry_points(group="zoo"))
    common.print_table(f"CLI start-up with {len(plugins)} plugins installed ({', '.join(plugins)}; median of "
                       f"{runs} fresh processes; limit {args.limit}s)",
                       ["command", "wall s", "imports torch/numpy/PIL?", "verdict", "slowest top-level imports"],
                       rows)
    if failed:
        print(f"FAILED: {', '.join(failed)} (exit status, a heavy import, or over {args.limit}s)")
    return records


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs", type=int, default=None, help="subprocesses per command (default 7; quick 3)")
    p.add_argument("--limit", type=float, default=1.0, help="seconds a command may take")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_common_args(p)
    add_args(p)
    args = p.parse_args(argv)
    common.print_machine()
    records = run(args)
    for rec in records:
        common.save_json(args, rec)
    if any(r["heavy_imports"] or r["exit"] for r in records):
        sys.exit(1)


if __name__ == "__main__":
    main()
