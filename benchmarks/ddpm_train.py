"""Benchmark 1: one DDPM U-Net training step, the zoo against diffusers, same architecture.

Zoo side: ``zoo_core.engine.Engine.step`` on the ddpm model (what ``zoo train ddpm`` runs:
q_sample, U-Net, L_simple, backward, grad-norm clip 1.0, the trainer's Adam; EMA off on both
sides). Diffusers side: the step of diffusers' ``train_unconditional.py`` example: DDPMScheduler
``add_noise``, ``UNet2DModel(...).sample``, MSE, backward, ``clip_grad_norm_(1.0)``, torch AdamW
with the example's settings. Both sides get the same real batch (builtin:shapes) and the same
precision (fp32 on CPU, bf16 autocast on a GPU that has it).

    python benchmarks/ddpm_train.py                 # CPU: 32x32 and 64x64; GPU: 32, 64 and 128
    python benchmarks/ddpm_train.py --res 32 --channels 64 --batch 16 --steps 5 --repeats 3
    python benchmarks/ddpm_train.py --profile zoo --res 32   # torch.profiler table of one side
"""

from __future__ import annotations

import argparse
import json
import sys

import common
import matched


def cases(args, device) -> list[tuple[int, int, int]]:
    """(res, channels, batch) to run: small widths on CPU so a step takes seconds, not minutes."""
    if args.res:
        return [(r, args.channels or (64 if device.type == "cuda" else 32),
                 args.batch or (32 if device.type == "cuda" else 8)) for r in args.res]
    if device.type == "cuda":
        return [(32, 128, 128), (64, 64, 64), (128, 64, 32)]
    return [(32, 32, 8), (64, 32, 4)]


def precision(args, device) -> str:
    if args.precision != "auto":
        return args.precision
    import torch

    return "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "fp32"


def autocast_dtype(prec: str):
    import torch

    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[prec]


def zoo_side(res: int, channels: int, batch: int, prec: str, device):
    """(step function, DDPM model, the fixed batch) for the zoo."""
    engine = common.zoo_engine("ddpm", {"res": res, "channels": channels},
                               {"batch_size": batch, "lr": 2e-4, "grad_clip": 1.0, "precision": prec}, device)
    return engine.step, engine.model, next(engine.batches)["image"]


def diffusers_side(cfg, images, prec: str, device):
    """(step function, UNet2DModel) doing diffusers' example training step."""
    import torch
    import torch.nn.functional as F

    from zoo_core.device import autocast

    unet = matched.build_unet(cfg).to(device).train()
    sched = matched.ddpm_scheduler(cfg)
    opt = torch.optim.AdamW(unet.parameters(), lr=2e-4, betas=(0.95, 0.999), weight_decay=1e-6, eps=1e-8)
    dtype = autocast_dtype(prec)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)

    def step():
        noise = torch.randn_like(images)
        t = torch.randint(0, sched.config.num_train_timesteps, (images.shape[0],), device=device)
        noisy = sched.add_noise(images, noise, t)
        with autocast(device, dtype):
            pred = unet(noisy, t).sample
        loss = F.mse_loss(pred.float(), noise.float())
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)
        return loss.item()

    return step, unet


def build(side: str, res: int, channels: int, batch: int, prec: str, device):
    """(step, network, everything else) of ``side``, with both sides built and kept alive.

    RSS is history-dependent: memory one construction freed is reused by later allocations
    without growing the resident set. Building both sides in every probe, in the same order, gives
    both the same history before the measured window (with only its own side built, each probe's
    RSS moved by 20-30 MiB in either direction).
    """
    z_step, z_model, images = zoo_side(res, channels, batch, prec, device)
    d_step, d_unet = diffusers_side(z_model.config, images, prec, device)
    keep = (z_step, z_model, d_step, d_unet)
    return (z_step, z_model.unet, keep) if side == "zoo" else (d_step, d_unet, keep)


def probe(args) -> None:
    """Child-process mode: memory of ``steps`` training steps of one side, as one JSON line."""
    device = common.setup_torch(args)
    step, net, _keep = build(args.probe, args.res[0], args.channels, args.batch, args.precision, device)
    mb = common.measure_memory(step, args.steps, device, args.memory)
    print(json.dumps({"side": args.probe, "params": common.count_params(net), "mb": mb}))


def profile(args, device, prec: str) -> None:
    import torch

    res, channels, batch = cases(args, device)[0]
    step, _, _keep = build(args.profile, res, channels, batch, prec, device)
    step()
    with torch.profiler.profile(record_shapes=False) as prof:
        for _ in range(args.steps):
            step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=30))


def run(args, device) -> list[dict]:
    prec = precision(args, device)
    if args.profile:
        profile(args, device, prec)
        return []
    steps = args.steps or (3 if args.quick else 8)
    rows, records = [], []
    for res, channels, batch in cases(args, device):
        z_step, z_model, images = zoo_side(res, channels, batch, prec, device)
        d_step, d_unet = diffusers_side(z_model.config, images, prec, device)
        zn, dn = common.count_params(z_model.unet), common.count_params(d_unet)
        matched.check_params(zn, dn)
        per_repeat, all_z, all_d = [], [], []
        for _ in range(args.repeats):
            t = common.interleaved({"zoo": z_step, "diffusers": d_step}, steps, warmup=1, device=device)
            all_z += t["zoo"]
            all_d += t["diffusers"]
            per_repeat.append(common.median(t["diffusers"]) / common.median(t["zoo"]))
        del z_step, d_step, z_model, d_unet
        argv = ["--res", str(res), "--channels", str(channels), "--batch", str(batch), "--precision", prec,
                "--device", str(device), "--steps", "3"] + (["--threads", str(args.threads)] if args.threads else [])
        kinds = ("tensors", "rss") if device.type == "cpu" else ("tensors",)
        mem = {(side, kind): common.run_probe("ddpm_train.py", ["--probe", side, "--memory", kind, *argv])
               for side in ("zoo", "diffusers") for kind in kinds}
        z_ips, d_ips = batch / common.median(all_z), batch / common.median(all_d)
        mb = {f"{side}_{kind}": mem.get((side, kind), {}).get("mb", float("nan"))
              for side in ("zoo", "diffusers") for kind in ("tensors", "rss")}
        rows.append([f"{res}x{res}", channels, batch, f"{zn:,}", f"{dn:,}", z_ips, d_ips, common.ratio(z_ips, d_ips),
                     ", ".join(f"{r:.2f}" for r in per_repeat), mb["zoo_tensors"], mb["diffusers_tensors"],
                     mb["zoo_rss"], mb["diffusers_rss"]])
        records.append({"bench": "ddpm_train", "res": res, "channels": channels, "batch": batch, "precision": prec,
                        "device": str(device), "params_zoo": zn, "params_diffusers": dn, "zoo_img_s": z_ips,
                        "diffusers_img_s": d_ips, "ratio_per_repeat": per_repeat, "memory_mib": mb,
                        "errors": {"/".join(k): v["error"] for k, v in mem.items() if "error" in v}})
        for key, m in mem.items():
            if "error" in m:
                print(f"memory probe {'/'.join(key)} failed: {m['error']}", file=sys.stderr)
    common.print_table(
        f"DDPM U-Net training step, zoo vs diffusers ({device}, {prec}, median of {steps} x {args.repeats} steps)",
        ["res", "ch", "batch", "params zoo", "params diffusers", "zoo img/s", "diffusers img/s", "zoo/diffusers",
         "ratio per repeat", "zoo MiB tensors", "diffusers MiB tensors", "zoo MiB RSS", "diffusers MiB RSS"], rows)
    print(common.MEMORY_NOTE)
    return records


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--res", type=int, nargs="+", default=None, help="resolutions (default: 32 64, +128 on GPU)")
    p.add_argument("--channels", type=int, default=None, help="U-Net base width (default: 32 on CPU; on GPU 128 at 32px, else 64)")
    p.add_argument("--batch", type=int, default=None, help="images per step")
    p.add_argument("--steps", type=int, default=None, help="timed steps per side per repeat (default 8; quick 3)")
    p.add_argument("--repeats", type=int, default=1, help="repeat the interleaved timing this many times")
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "fp16"])
    p.add_argument("--profile", choices=["zoo", "diffusers"], default=None, help="print a torch.profiler table")
    p.add_argument("--probe", choices=["zoo", "diffusers"], default=None, help=argparse.SUPPRESS)
    p.add_argument("--memory", choices=["tensors", "rss"], default="tensors", help=argparse.SUPPRESS)


def main(argv=None) -> None:
    def early(args) -> bool:
        if args.probe:
            probe(args)
        return bool(args.probe)

    common.script_main(__doc__, add_args, run, argv, early)


if __name__ == "__main__":
    main()
