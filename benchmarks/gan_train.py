"""Benchmark 3: GAN training steps per second, DCGAN and PGGAN at each resolution.

Each step is ``Engine.step()`` as ``zoo train`` runs it (every D and G phase, grad-norm,
optimizer steps, and EMA where the model's training defaults keep one), on one fixed real batch
of builtin:shapes. PGGAN is timed in the stabilisation phase of each resolution (``--start-res``
set to it, so the networks run up to that level with alpha 1). A family whose plugin does not
import is skipped with its error; nothing here compares against another library.

    python benchmarks/gan_train.py
    python benchmarks/gan_train.py --family pggan --res 4 8 16 32 --batch 16
"""

from __future__ import annotations

import argparse

import common

FAMILIES = ("dcgan", "pggan")


def dcgan_cases(args, device) -> list[tuple[int, dict]]:
    if device.type == "cuda":
        res, width = args.res or (32, 64, 128), 128
    else:
        res, width = args.res or ((32,) if args.quick else (32, 64)), 32
    return [(r, {"res": r, "channels": args.channels or width}) for r in res if r in (16, 32, 64, 128, 256)]


def pggan_cases(args, device) -> list[tuple[int, dict]]:
    if device.type == "cuda":  # the paper's widths (512 maps up to 32x32, halving above)
        res, widths = args.res or (4, 8, 16, 32, 64, 128), {"z_dim": 512, "channel_base": 16384, "max_channels": 512}
    else:  # the shapes-fast preset's widths
        res = args.res or ((4, 8, 16) if args.quick else (4, 8, 16, 32))
        widths = {"z_dim": 64, "channel_base": 512, "max_channels": 64, "min_channels": 16}
    huge = 10**12  # never leave the stabilisation phase of the start resolution
    return [(r, {"res": max(8, r), "start_res": r, "fade_images": huge, "stable_images": huge, **widths})
            for r in res if r >= 4 and not r & (r - 1)]


def run(args, device) -> list[dict]:
    steps = args.steps or (3 if args.quick else 10)
    batch = args.batch or (64 if device.type == "cuda" else 16)
    rows, records = [], []
    for family in args.family or FAMILIES:
        error = common.importable(f"zoo_{family}")
        if error is None:
            from zoo_core.plugins import registry

            if family not in registry().names("model"):
                error = f"{family} is not registered (is zoo-{family} installed?)"
        if error:
            print(f"skipping {family}: {error}")
            rows.append([family, "-", "-", "-", "-", "-", f"skipped: {error[:70]}"])
            continue
        cases = dcgan_cases(args, device) if family == "dcgan" else pggan_cases(args, device)
        for res, model_kw in cases:
            try:
                engine = common.zoo_engine(family, model_kw, {"batch_size": batch, "precision": args.precision},
                                           device, model_defaults=True)
                n_params = sum(common.count_params(m) for m in engine.trainer.modules.values())
                t = common.interleaved({family: engine.step}, steps, warmup=1, device=device)[family]
            except Exception as exc:  # noqa: BLE001 - a plugin still being written must not stop the others
                msg = f"{type(exc).__name__}: {exc}".splitlines()[0]
                print(f"{family} at {res}: {msg}")
                rows.append([family, f"{res}x{res}", batch, "-", "-", "-", f"failed: {msg[:70]}"])
                continue
            sps = 1 / common.median(t)
            ema = "EMA" if engine.ema else "no EMA"
            rows.append([family, f"{res}x{res}", batch, f"{n_params:,}", sps, sps * batch,
                         f"{', '.join(engine.trainer.optimizers)} phases, {ema}"])
            records.append({"bench": "gan_train", "family": family, "res": res, "batch": batch, "params": n_params,
                            "steps_s": sps, "img_s": sps * batch, "device": str(device), "config": model_kw})
            del engine
    common.print_table(f"GAN training steps ({device}, median of {steps} steps, fixed batch)",
                       ["family", "res", "batch", "params (G+D)", "steps/s", "real img/s", "notes"], rows)
    return records


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--family", nargs="+", choices=FAMILIES, default=None, help="which families (default: both)")
    p.add_argument("--res", type=int, nargs="+", default=None, help="resolutions to time")
    p.add_argument("--channels", type=int, default=None, help="DCGAN base width (default: 32 CPU, 128 GPU)")
    p.add_argument("--batch", type=int, default=None, help="images per step (default: 16 CPU, 64 GPU)")
    p.add_argument("--steps", type=int, default=None, help="timed steps per case (default 10; quick 3)")
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "fp16"])


def main(argv=None) -> None:
    common.script_main(__doc__, add_args, run, argv)


if __name__ == "__main__":
    main()
