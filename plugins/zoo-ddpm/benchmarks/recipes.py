"""Short measured comparison of DDPM training options, to choose the defaults (issue 20, item 1).

Each recipe trains the same small U-Net for the same steps on the same data with ``zoo train ddpm``
and is scored by the pixel-projection Fréchet distance to real images of the data (lower is better;
benchmarks/quality_ddpm.py explains the statistic) on 50-step respaced ancestral samples. With
``--gray`` the data are the built-in shapes converted to gray but stored as RGB, and the table also
gives the colour cast: the mean spread between the RGB channels of a sample pixel, in grey levels
(0 for gray images). Recipes that leave ``--in-channels`` unset train a 1-channel model on gray data
(``zoo train`` detects it), whose samples are gray by construction; the last recipe keeps RGB.

    python plugins/zoo-ddpm/benchmarks/recipes.py --steps 400 [--gray]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

RECIPES: dict[str, list[str]] = {
    "eps, lr 2e-4, EMA 0.9995 (old defaults)": ["--preset", "ho2020", "--ema-decay", "0.9995"],
    "eps + min-SNR 5": ["--preset", "ho2020", "--ema-decay", "0.9995", "--min-snr-gamma", "5"],
    "v + zero-terminal-SNR + min-SNR 5": ["--preset", "ho2020", "--ema-decay", "0.9995", "--prediction", "v",
                                          "--zero-terminal-snr", "--min-snr-gamma", "5"],
    "  + power EMA 6.94": ["--lr", "2e-4", "--prediction", "v", "--zero-terminal-snr", "--min-snr-gamma", "5",
                           "--ema-gamma", "6.94", "--ema-decay", "0.9999"],
    "  + lr sized to the network": ["--prediction", "v", "--zero-terminal-snr", "--min-snr-gamma", "5",
                                    "--ema-gamma", "6.94", "--ema-decay", "0.9999", "--lr", "{sized}"],
    "  the same, RGB kept on gray data (--in-channels 3)": [
        "--prediction", "v", "--zero-terminal-snr", "--min-snr-gamma", "5", "--ema-gamma", "6.94",
        "--ema-decay", "0.9999", "--lr", "{sized}", "--in-channels", "3"],
}


def gray_folder(root: Path, n: int) -> str:
    """The built-in shapes as gray images stored as RGB PNGs (data the defaults were not tuned on)."""
    from zoo_core.builtin_data import shapes

    root.mkdir(parents=True, exist_ok=True)
    for i, (img, _, _) in enumerate(shapes(seed=7, size=n).items):
        img.convert("L").convert("RGB").save(root / f"{i:05d}.png")
    return str(root)


def real_images(data: str, res: int, n: int, start: int = 0) -> torch.Tensor:
    """``n`` real images from index ``start`` on (disjoint ranges give a real-vs-real floor)."""
    from zoo_core.data import DataConfig, ImageDataset, open_source

    cfg = DataConfig(data=data)
    ds = ImageDataset(open_source(cfg, res, seed=0), res, 3, cfg)
    return torch.stack([ds[(i % len(ds), i)]["image"] for i in range(start, start + n)])


def colour_cast(images: torch.Tensor) -> float:
    """Mean per-pixel spread between the RGB channels, in grey levels of 0..255."""
    levels = (images.clamp(-1, 1) + 1) * 127.5
    return float((levels.amax(dim=1) - levels.amin(dim=1)).mean())


def main(argv=None) -> None:
    from zoo_core.cli import main as zoo
    from zoo_core.hub import from_pretrained
    from zoo_core.metrics.frechet import projection_fd

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--res", type=int, default=16)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--n", type=int, default=128, help="samples per recipe (and reference real images)")
    p.add_argument("--gray", action="store_true")
    p.add_argument("--only", default="", help="comma-separated recipe indices to run")
    p.add_argument("--sized-lr", default="8e-4")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        data = gray_folder(Path(tmp) / "gray", 1024) if args.gray else "builtin:shapes"
        held_out = real_images(data, args.res, args.n)
        floor = projection_fd(real_images(data, args.res, args.n, start=args.n), held_out)
        print(f"data {data if not args.gray else 'gray shapes'}, {args.res}px, {args.steps} steps x batch "
              f"{args.batch}; real-vs-real floor {floor:.2f}, real colour cast {colour_cast(held_out):.2f}")
        for i, (name, flags) in enumerate(RECIPES.items()):
            if args.only and str(i) not in args.only.split(","):
                continue
            out = Path(tmp) / f"run{i}"
            flags = [f.replace("{sized}", args.sized_lr) for f in flags]
            t0 = time.perf_counter()
            try:
                zoo(["train", "ddpm", "--data", data, "--res", str(args.res), "--steps", str(args.steps),
                     "--batch-size", str(args.batch), "--out", str(out), "--no-progress", "--device", "cpu",
                     "--sample-every", str(10**9), "--sample-n", "4", "--checkpoint-every", str(10**9), *flags])
            except SystemExit as exc:
                if exc.code:
                    raise
            model = from_pretrained(out / "final", device="cpu")
            fake = model.generate(args.n, seed=0, sampler="ancestral", steps=50)
            fake = fake.expand(-1, 3, -1, -1)  # a gray model gives 1 channel
            print(f"{i} {name:45s} FD {projection_fd(fake, held_out):7.2f}  cast {colour_cast(fake):6.2f}  "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    sys.exit(main())
