"""How much quality do respaced samples lose, and how much time do they save?

    OMP_NUM_THREADS=1 python plugins/zoo-iddpm/benchmarks/respacing_benchmark.py RUN_DIR \
        --n 128 --schedules ancestral:1000,ancestral:50,ancestral:10,ddim:50 --out results.json

Samples ``--n`` images from the trained model with each sampler:steps pair (same seed), times them
(process CPU time and wall time), and scores them against the real data with the core's FID on a
fixed extractor (default ``random``: a seeded random conv net, since the FID Inception weights need a
download; pass ``--extractor inception`` where they are cached). The FID of ``--n`` other real
images is printed as the floor that ``--n`` samples can reach and that of uniform noise as a scale
reference, and per-channel mean/std distances to the data as a plain statistic. See docs/models/iddpm.md for numbers.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from zoo_core.metrics.frechet import projection_fd


def channel_stats(images: torch.Tensor) -> torch.Tensor:
    """Per-channel mean and std of a batch: a plain colour statistic, comparable across samplers."""
    return torch.cat([images.mean(dim=(0, 2, 3)), images.std(dim=(0, 2, 3))])


def main(argv: list[str] | None = None) -> dict:
    from zoo_core.hub import from_pretrained
    from zoo_core.metrics import Evaluator
    from zoo_core.metrics import images as img_src

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run")
    ap.add_argument("--n", type=int, default=128)
    ap.add_argument("--schedules", default="ancestral:1000,ancestral:50,ancestral:10,ddim:50")
    ap.add_argument("--data", default="builtin:shapes")
    ap.add_argument("--extractor", default="random")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)

    model = from_pretrained(args.run, device="cpu")
    res, channels = model.config.res, model.config.in_channels
    ev = Evaluator(["fid"], extractor=args.extractor, data=args.data, device="cpu", seed=args.seed)
    ds = img_src.real_dataset(args.data, res, channels, args.seed + 1, False)
    held_out = torch.cat([b for b, _ in img_src.dataset_batches(ds, args.n, args.seed + 1, 256)])
    real_all = torch.cat([b for b, _ in img_src.dataset_batches(ds, None, args.seed, 256)])
    ref = channel_stats(real_all)
    noise = torch.rand(held_out.shape, generator=torch.Generator().manual_seed(args.seed)) * 2 - 1
    rows = [{"name": f"{name} ({args.n})", "fid": ev(x)["metrics"]["fid"], "pixel_fd": projection_fd(x, real_all),
             "channel_dist": float((channel_stats(x) - ref).abs().mean())}
            for name, x in (("real, another draw", held_out), ("uniform noise (scale reference)", noise))]
    for item in args.schedules.split(","):
        sampler, steps = item.split(":")
        cpu0, wall0 = time.process_time(), time.perf_counter()
        images = model.generate(args.n, seed=args.seed, sampler=sampler, steps=int(steps), batch_size=args.n)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        rows.append({"name": f"{sampler} {steps} steps", "cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
                     "fid": ev(images)["metrics"]["fid"], "pixel_fd": projection_fd(images, real_all),
                     "channel_dist": float((channel_stats(images) - ref).abs().mean())})
        print(json.dumps(rows[-1]), flush=True)
    result = {"run": args.run, "n": args.n, "extractor": args.extractor, "data": args.data,
              "threads": torch.get_num_threads(), "rows": rows}
    print(f"| samples | CPU s | wall s | pixel-projection FD | FID ({args.extractor}) | channel mean/std dist |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['name']} | {r.get('cpu_s', '')} | {r.get('wall_s', '')} | {r['pixel_fd']:.3f} | {r['fid']:.3f} | "
              f"{r['channel_dist']:.4f} |")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    main()
