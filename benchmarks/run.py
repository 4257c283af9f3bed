"""Run the zoo's benchmarks and print their tables (Markdown, ready for docs/performance.md).

    python benchmarks/run.py                      # everything, CPU sizes or GPU sizes by device
    python benchmarks/run.py --quick              # a few minutes: fewer steps, smaller sizes
    python benchmarks/run.py --only train cli     # some of: cli train sampling gan data features
    python benchmarks/run.py --train-args "--res 32 --repeats 3" --sampling-args "--n 16"
    python benchmarks/run.py --json results.jsonl # also keep every number as JSON lines

Each benchmark is also a script of its own (``python benchmarks/ddpm_train.py --help``); the
``--NAME-args`` strings are passed to that script's options. None of this is part of the test
suite: timings on shared machines are evidence, not pass/fail checks.
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys
import time

import common

BENCHMARKS = {  # name -> module; in the order they run (cheap first)
    "cli": "cli_startup",
    "train": "ddpm_train",
    "sampling": "sampling",
    "gan": "gan_train",
    "data": "input_pipeline",
    "features": "features",
}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_common_args(p)
    p.add_argument("--only", nargs="+", choices=list(BENCHMARKS), default=None, help="run only these")
    p.add_argument("--skip", nargs="+", choices=list(BENCHMARKS), default=[], help="leave these out")
    for name, module in BENCHMARKS.items():
        p.add_argument(f"--{name}-args", default="", metavar="ARGS",
                       help=f"options for benchmarks/{module}.py (quoted)")
    args = p.parse_args(argv)
    device = common.setup_torch(args)
    common.print_machine(device)
    shared = (["--quick"] if args.quick else []) + ["--device", str(device)]
    shared += ["--threads", str(args.threads)] if args.threads else []
    failed = []
    started = time.perf_counter()
    for name, module_name in BENCHMARKS.items():
        if (args.only and name not in args.only) or name in args.skip:
            continue
        module = importlib.import_module(module_name)
        sub = argparse.ArgumentParser(prog=f"{module_name}.py")
        common.add_common_args(sub)
        module.add_args(sub)
        sub_args = sub.parse_args(shared + shlex.split(getattr(args, f"{name}_args")))
        t0 = time.perf_counter()
        print(f"\n## {name} ({module_name}.py; load {common.load_average()})", flush=True)
        try:
            records = module.run(sub_args, device)
        except Exception as exc:  # noqa: BLE001 - report and go on with the other benchmarks
            print(f"{name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed.append(name)
            continue
        for rec in records:
            common.save_json(args, {**rec, "machine": common.machine_info(device)})
        print(f"({name}: {time.perf_counter() - t0:.0f} s; load now {common.load_average()})", flush=True)
    print(f"\nall done in {time.perf_counter() - started:.0f} s" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
