"""Sample quality at equal budget: `zoo train ddpm` with its defaults vs diffusers' recipe, and the
zoo model's quality per sampler and step count.

Both sides train the same U-Net architecture (benchmarks/matched.py; parameter counts printed) on
the same images for the same number of optimizer steps and batch size. The reference follows
diffusers' `train_unconditional.py` example, which is what users would otherwise run: AdamW(lr 1e-4,
weight decay 1e-6), 500 warm-up steps then cosine decay, EMA with inv_gamma 1 / power 3/4 up to
0.9999, DDPMPipeline sampling with 1000 ancestral steps. The zoo side is plain `zoo train ddpm` (its
TRAIN_DEFAULTS) and `generate()` with each `--samplers` entry (default: 1000-step ancestral, 50-step
DDIM, 10- and 20-step DPM-Solver++, 18-step Heun).

Quality is Inception FID and KID on `--n` samples (default 2,000) against as many real images when
the FID Inception weights are at hand (benchmarks/quality_metrics.py says how to get them offline),
else the Fréchet distance of a fixed random projection of the pixels (64-d; real vs real ~0.6,
noise ~25 at 16 px), with a note. Lower is better.

    python benchmarks/quality_ddpm.py --steps 2000 --res 16                        # 2,000 samples
    python benchmarks/quality_ddpm.py --steps 50 --n 16 --samplers dpm++:10 --quick  # smoke run
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
import common  # noqa: E402
import matched  # noqa: E402
import quality_metrics  # noqa: E402

DEFAULT_SAMPLERS = "ancestral:1000,ddim:50,dpm++:10,dpm++:20,heun:18"


def parse_samplers(text: str) -> list[tuple[str, int]]:
    """"ancestral:1000,dpm++:10" -> [("ancestral", 1000), ("dpm++", 10)]."""
    out = []
    for item in text.split(","):
        name, _, steps = item.strip().partition(":")
        if not name or not steps.isdigit():
            raise SystemExit(f"--samplers: expected NAME:STEPS items such as dpm++:10, got {item!r}")
        out.append((name, int(steps)))
    return out


def real_images(data: str, res: int, n: int, seed: int):
    """``n`` distinct real images of ``data`` in a seeded order, or all of them when it holds fewer: the
    reference a FID is scored against (repeating images would shrink its spread and flatter the score)."""
    from zoo_core.data import DataConfig, ImageDataset, open_source

    cfg = DataConfig(data=data)
    ds = ImageDataset(open_source(cfg, res, seed=seed), res, 3, cfg)
    return torch.stack([ds[(i, i)]["image"] for i in range(min(n, len(ds)))])


def reference_scorer(args, device) -> quality_metrics.Scorer:
    """The scorer of every quality benchmark: ``--n`` real images drawn with ``--seed`` + 1 (what samples are
    scored against; ``scorer.held_out``), with the run's ``--fid-weights``, ``--pixel-fd`` and ``--real-stats``."""
    held_out = real_images(args.data, args.res, args.n, args.seed + 1)
    return quality_metrics.Scorer(args.data, args.res, args.n, args.fid_weights, device, seed=args.seed + 1,
                                  pixel=getattr(args, "pixel_fd", False), held_out=held_out, stats=args.real_stats)


def train_zoo(args, out: Path, steps: int | None = None, family: str = "ddpm", extra: tuple[str, ...] = ()):
    """``zoo train FAMILY`` with its defaults (plus ``extra`` flags) for ``steps`` (default ``--steps``)."""
    from zoo_core.cli import main

    argv = ["train", family, "--data", args.data, "--res", str(args.res), "--steps", str(steps or args.steps),
            "--batch-size", str(args.batch), "--out", str(out), "--no-progress", "--device", str(args.device),
            "--seed", str(args.seed), "--sample-every", str(10**9), "--checkpoint-every", str(10**9), *extra]
    try:
        main(argv)
    except SystemExit as exc:
        if exc.code:
            raise


def train_diffusers(steps: int, seed: int, cfg, batches, device="cpu"):
    """diffusers' train_unconditional recipe on the U-Net matched to zoo config ``cfg``, for ``steps``
    steps of ``batches`` (image tensors); returns the EMA U-Net and its DDPMScheduler."""
    from diffusers.training_utils import EMAModel

    unet = matched.build_unet(cfg).to(device)
    sched = matched.ddpm_scheduler(cfg)
    opt = torch.optim.AdamW(unet.parameters(), lr=1e-4, betas=(0.95, 0.999), weight_decay=1e-6, eps=1e-8)
    warm = 500

    def lr_lambda(step):
        if step < warm:
            return step / max(1, warm)
        return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, steps - warm)))

    lr_sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)
    ema = EMAModel(unet.parameters(), decay=0.9999, use_ema_warmup=True, inv_gamma=1.0, power=3 / 4)
    torch.manual_seed(seed)
    for _ in range(steps):
        x0 = next(batches).to(device)
        noise = torch.randn_like(x0)
        t = torch.randint(0, sched.config.num_train_timesteps, (x0.shape[0],), device=device)
        loss = torch.nn.functional.mse_loss(unet(sched.add_noise(x0, noise, t), t).sample, noise)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        lr_sched.step()
        opt.zero_grad()
        ema.step(unet.parameters())
    ema.copy_to(unet.parameters())
    return unet.cpu(), sched


def reference_batches(data: str, res: int, batch: int, seed: int):
    """The zoo's data pipeline as RGB tensors (what diffusers' recipe trains on: it converts to RGB),
    in the same seeded order the zoo run sees."""
    from zoo_core.data import DataConfig, ImageDataset, make_loader, open_source

    dcfg = DataConfig(data=data)
    ds = ImageDataset(open_source(dcfg, res, seed=seed), res, 3, dcfg)
    return (b["image"] for b in make_loader(ds, batch, seed, 0, 0, 1, 0, False))


def sample_diffusers(unet, sched, n: int, seed: int):
    from diffusers import DDPMPipeline

    pipe = DDPMPipeline(unet=unet, scheduler=sched)
    pipe.set_progress_bar_config(disable=True)
    out = pipe(batch_size=n, generator=torch.Generator().manual_seed(seed), num_inference_steps=1000,
               output_type="np").images
    return torch.from_numpy(out).permute(0, 3, 1, 2) * 2 - 1


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_common_args(p)
    quality_metrics.add_args(p)
    p.add_argument("--data", default="builtin:shapes")
    p.add_argument("--res", type=int, default=16)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--n", type=int, default=quality_metrics.MIN_N, help="samples per side (and real images)")
    p.add_argument("--samplers", default=DEFAULT_SAMPLERS, help="zoo samplers to score, NAME:STEPS,...")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    samplers = parse_samplers(args.samplers)
    device = common.setup_torch(args)
    common.print_machine()
    from zoo_core.hub import from_pretrained

    scorer = reference_scorer(args, device)
    rows, records = [], []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        train_zoo(args, Path(tmp) / "zoo")
        t_zoo = time.perf_counter() - t0
        model = from_pretrained(Path(tmp) / "zoo", device="cpu")
        cfg = model.config
    n_zoo = common.count_params(model.unet)
    for name, steps in samplers:
        t0 = time.perf_counter()
        ours = model.generate(args.n, seed=args.seed, sampler=name, steps=steps)
        s_zoo = time.perf_counter() - t0
        scores = scorer(ours)
        rows.append([f"zoo ddpm (defaults), {name} {steps}", f"{n_zoo:,}", f"{t_zoo:.0f}", f"{s_zoo:.0f}",
                     *scorer.cells(scores)])
        records.append({"side": "zoo", "sampler": name, "sampling_steps": steps, **scores})

    # the reference sees the same stream of training images (the zoo's data pipeline, same seed)
    batches = reference_batches(args.data, args.res, args.batch, args.seed)
    t0 = time.perf_counter()
    unet, sched = train_diffusers(args.steps, args.seed, dataclasses.replace(cfg, in_channels=3), batches)
    t_ref = time.perf_counter() - t0
    t0 = time.perf_counter()
    theirs = sample_diffusers(unet, sched, args.n, args.seed)
    s_ref = time.perf_counter() - t0
    n_ref = common.count_params(unet)
    matched.check_params(n_zoo, n_ref)
    scores = scorer(theirs)
    rows.append(["diffusers recipe, ancestral 1000", f"{n_ref:,}", f"{t_ref:.0f}", f"{s_ref:.0f}", *scorer.cells(scores)])
    records.append({"side": "diffusers", "sampler": "ancestral", "sampling_steps": 1000, **scores})
    scores = scorer(real_images(args.data, args.res, args.n, seed=args.seed + 2))
    rows.append(["real vs real (floor)", "", "", "", *scorer.cells(scores)])
    records.append({"side": "real", **scores})
    common.print_table(f"DDPM sample quality, {args.data} {args.res}px, {args.steps} steps x batch {args.batch}, "
                       f"{args.n} samples per side, {scorer.name}",
                       ["side, sampler steps", "params", "train s", "sample s", *scorer.columns()], rows)
    common.save_json(args, {"benchmark": "quality_ddpm", "metric": scorer.name, "n": args.n, "rows": records})


if __name__ == "__main__":
    main()
