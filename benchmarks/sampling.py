"""Benchmark 2: DDPM sampling images/s, the zoo against diffusers' pipelines, same network.

The zoo side is ``DDPM.generate`` (no-grad, batched, as the engine calls it on the EMA model);
diffusers' side is ``DDPMPipeline`` / ``DDIMPipeline`` around a ``UNet2DModel`` of the same
architecture (random weights on both sides: speed does not depend on them). Both networks are in
eval mode (dropout off) and draw one batch of the same size for the same number of steps:

    ancestral1000   zoo sampler=ancestral steps=1000  vs DDPMPipeline, 1000 inference steps
    respaced50      zoo sampler=ancestral steps=50    vs DDPMPipeline, 50 inference steps (both respace)
    ddim50          zoo sampler=ddim steps=50         vs DDIMPipeline, 50 steps, eta 0
    dpm++20         zoo sampler=dpm++ steps=20        vs DDPMPipeline + DPMSolverMultistepScheduler
                                                         (dpmsolver++, order 2), 20 steps

    python benchmarks/sampling.py                      # CPU: 32x32, base width 32; 4 / 8 images
    python benchmarks/sampling.py --res 64 --channels 64 --n 16 --n-long 8
"""

from __future__ import annotations

import argparse

import common
import matched


def sizes(args, device) -> dict:
    gpu = device.type == "cuda"
    return {
        "res": args.res or (64 if gpu else (16 if args.quick else 32)),
        "channels": args.channels or (64 if gpu else 32),
        "n": args.n or (64 if gpu else (4 if args.quick else 8)),  # 50- and 20-step samplers
        "n_long": args.n_long or (16 if gpu else (2 if args.quick else 4)),  # 1000-step ancestral
    }


def build(s: dict, device):
    import torch
    from zoo_ddpm.config import DDPMConfig
    from zoo_ddpm.model import DDPM

    torch.manual_seed(0)
    zoo = DDPM(DDPMConfig(res=s["res"], channels=s["channels"])).to(device).eval()
    unet = matched.build_unet(zoo.config).to(device).eval()
    matched.check_params(common.count_params(zoo.unet), common.count_params(unet))
    return zoo, unet


def runners(zoo, unet, device):
    """name -> (steps, zoo call, diffusers call), each taking the number of images."""
    import torch
    from diffusers import DDIMPipeline, DDPMPipeline, DPMSolverMultistepScheduler

    ddpm = DDPMPipeline(unet=unet, scheduler=matched.ddpm_scheduler(zoo.config))
    ddim = DDIMPipeline(unet=unet, scheduler=matched.ddim_scheduler(zoo.config))
    dpm = DDPMPipeline(unet=unet, scheduler=DPMSolverMultistepScheduler.from_config(
        ddpm.scheduler.config, algorithm_type="dpmsolver++", solver_order=2))
    for pipe in (ddpm, ddim, dpm):
        pipe.set_progress_bar_config(disable=True)

    def ours(sampler, steps):
        return lambda n: zoo.generate(n, seed=0, sampler=sampler, steps=steps, batch_size=n)

    def theirs(pipe, steps, **kw):
        return lambda n: pipe(batch_size=n, generator=torch.Generator(device="cpu").manual_seed(0),
                              num_inference_steps=steps, output_type="np", **kw)

    return {
        "ancestral1000": (1000, ours("ancestral", 1000), theirs(ddpm, 1000)),
        "respaced50": (50, ours("ancestral", 50), theirs(ddpm, 50)),
        "ddim50": (50, ours("ddim", 50), theirs(ddim, 50, eta=0.0)),
        "dpm++20": (20, ours("dpm++", 20), theirs(dpm, 20)),
    }


def run(args, device) -> list[dict]:
    s = sizes(args, device)
    zoo, unet = build(s, device)
    table = runners(zoo, unet, device)
    repeats = args.repeats or 1
    for name in ("respaced50", "ddim50"):  # warm-up (oneDNN primitives, cudnn autotuning) at the real batch
        table[name][1](s["n"]), table[name][2](s["n"])
    rows, records = [], []
    for name in args.only or list(table):
        steps, z, d = table[name]
        n = s["n_long"] if steps == 1000 else s["n"]
        calls = {"zoo": lambda z=z, n=n: z(n), "diffusers": lambda d=d, n=n: d(n)}
        t = common.interleaved(calls, repeats, warmup=0, device=device)
        zi, di = n / common.median(t["zoo"]), n / common.median(t["diffusers"])
        rows.append([name, f"{s['res']}x{s['res']}", n, zi, di, common.ratio(zi, di)])
        records.append({"bench": "sampling", "sampler": name, **s, "batch": n, "zoo_img_s": zi,
                        "diffusers_img_s": di, "device": str(device)})
    common.print_table(
        f"DDPM sampling, zoo vs diffusers ({device}, base width {s['channels']}, "
        f"{common.count_params(zoo.unet):,} parameters, eval mode, median of {repeats})",
        ["sampler", "res", "images", "zoo img/s", "diffusers img/s", "zoo/diffusers"], rows)
    return records


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--res", type=int, default=None, help="resolution (default: 32 CPU, 16 quick, 64 GPU)")
    p.add_argument("--channels", type=int, default=None, help="U-Net base width (default: 32 CPU, 64 GPU)")
    p.add_argument("--n", type=int, default=None, help="images (one batch) for the 50- and 20-step samplers")
    p.add_argument("--n-long", type=int, default=None, help="images (one batch) for 1000-step ancestral")
    p.add_argument("--repeats", type=int, default=None, help="timed runs per side (default 1)")
    p.add_argument("--only", nargs="+", choices=["ancestral1000", "respaced50", "ddim50", "dpm++20"], default=None)


def main(argv=None) -> None:
    common.script_main(__doc__, add_args, run, argv)


if __name__ == "__main__":
    main()
