"""Benchmark 4: images/s the data loader delivers against what DDPM training consumes.

The loader is ``zoo_core.data.make_loader`` exactly as the engine builds it (seeded stream,
decode, center crop, antialiased resize, to [-1, 1], collate), over

* a temporary folder of generated JPEGs and PNGs (128x128 shapes images, so every item is decoded
  and resized), and
* ``builtin:shapes`` (64x64 PIL images already in memory: resize only).

The consumer is the zoo's DDPM training step at the same resolution and batch (the sizes of
benchmark 1). With ``--workers 0`` (the engine's CPU default) loading runs in the training
process between steps, so "loading share" = the fraction of each step spent waiting for data;
with workers it overlaps with training as long as the loader is faster.

    python benchmarks/input_pipeline.py
    python benchmarks/input_pipeline.py --res 64 --images 512 --workers 0 2 4
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import common


def make_folder(root: Path, n: int, fmt: str) -> Path:
    from zoo_core.builtin_data import shapes

    folder = root / fmt
    folder.mkdir(parents=True, exist_ok=True)
    src = shapes(seed=1, size=n, canvas=128)
    for i in range(n):
        img = src.load(i)
        if fmt == "jpg":
            img.save(folder / f"{i:05d}.jpg", quality=90)
        else:
            img.save(folder / f"{i:05d}.png")
    return folder


def loader_rate(data: str, res: int, batch: int, workers: int, batches: int) -> float:
    """Images per second over ``batches`` batches, after one warm-up batch (worker start-up)."""
    from zoo_core.data import DataConfig, ImageDataset, make_loader, open_source

    cfg = DataConfig(data=data, workers=workers)
    dataset = ImageDataset(open_source(cfg, res), res, 3, cfg)
    it = iter(make_loader(dataset, batch, seed=0, start=0, rank=0, world=1, workers=workers, pin_memory=False))
    next(it)
    t0 = time.perf_counter()
    for _ in range(batches):
        next(it)
    rate = batches * batch / (time.perf_counter() - t0)
    del it
    return rate


def train_rate(res: int, channels: int, batch: int, steps: int, device) -> float:
    engine = common.zoo_engine("ddpm", {"res": res, "channels": channels},
                               {"batch_size": batch, "lr": 2e-4, "grad_clip": 1.0}, device)
    t = common.interleaved({"ddpm": engine.step}, steps, warmup=1, device=device)["ddpm"]
    return batch / common.median(t)


def run(args, device) -> list[dict]:
    gpu = device.type == "cuda"
    resolutions = args.res or ([32, 64, 128] if gpu else ([32] if args.quick else [32, 64]))
    channels = args.channels or (64 if gpu else 32)
    n = args.images or (128 if args.quick else 512)
    batches = args.batches or (4 if args.quick else 16)
    rows, records = [], []
    with tempfile.TemporaryDirectory(prefix="zoo-bench-data-") as tmp:
        folders = {fmt: str(make_folder(Path(tmp), n, fmt)) for fmt in ("jpg", "png")}
        for res in resolutions:
            batch = args.batch or (32 if gpu else (8 if res <= 32 else 4))
            consume = train_rate(res, channels, batch, 3 if args.quick else 6, device)
            for label, data in (("folder of JPEGs", folders["jpg"]), ("folder of PNGs", folders["png"]),
                                ("builtin:shapes", "builtin:shapes")):
                for workers in args.workers:
                    rate = loader_rate(data, res, batch, workers, batches)
                    share = consume / (rate + consume) if workers == 0 else max(0.0, 1 - rate / consume)
                    rows.append([label, f"{res}x{res}", batch, workers, rate, consume, f"{rate / consume:.1f}x",
                                 f"{100 * share:.0f}%"])
                    records.append({"bench": "input_pipeline", "source": label, "res": res, "batch": batch,
                                    "workers": workers, "loader_img_s": rate, "ddpm_train_img_s": consume,
                                    "device": str(device)})
    common.print_table(
        f"Input pipeline vs DDPM training ({device}; {n} source images of 128x128; DDPM base width {channels})",
        ["source", "res", "batch", "workers", "loader img/s", "DDPM train img/s", "headroom", "loading share"], rows)
    print("loading share: with 0 workers, the part of each step spent loading (load / (load + train)); "
          "with workers, the part of the training rate the loader cannot keep up with (0% = never waits).")
    return records


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--res", type=int, nargs="+", default=None, help="resolutions (default: 32 64; +128 on GPU)")
    p.add_argument("--channels", type=int, default=None, help="DDPM base width of the consumer")
    p.add_argument("--batch", type=int, default=None, help="images per batch (default: benchmark 1's)")
    p.add_argument("--images", type=int, default=None, help="images in each generated folder (default 512)")
    p.add_argument("--batches", type=int, default=None, help="timed batches per loader (default 16)")
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2], help="loader worker counts to try")


def main(argv=None) -> None:
    common.script_main(__doc__, add_args, run, argv)


if __name__ == "__main__":
    main()
