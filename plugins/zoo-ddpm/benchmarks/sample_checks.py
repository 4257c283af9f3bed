"""Checks a user makes by eye, as numbers: residual noise, class coverage and colour cast of sample sets.

Reads the sample sets ``quality_budgets.py --keep DIR`` saved (uint8 safetensors) and the real images
they were trained on, and prints one row per set:

* **noisy %**: the share of samples whose pixel noise (mean absolute difference between the image and
  its 3x3 median filter, in grey levels) exceeds the 99th percentile of the real images' (so real
  images score 1% by construction). On the 16 px digits, real images plus Gaussian noise of sd 25 grey
  levels score 70%, of sd 40 over 99%: visible residual noise lands far above 1%.
* **classes**: with ``--labels FILE.json`` (real image file name -> class), each sample takes the class of
  its nearest real image in pixels (1-NN; on the 8x8 digits upscaled to 16 px that classifies other
  real images at ~98%); printed are the classes present (at least a quarter of their uniform share) and
  the smallest class's share relative to uniform (1.0: perfectly balanced).
* **cast**: the mean spread between R, G and B per pixel, in grey levels (0 for a 1-channel model).
* with ``--fid-weights``: Inception FID and KID against the same reference real images quality_budgets.py
  scores against (``--n`` of them, its ``--seed`` + 1), so sets sampled by separate processes (or saved
  by a run that was stopped) are scored on one scale.

    python plugins/zoo-ddpm/benchmarks/sample_checks.py /work/bench/keep1500 --data FOLDER --labels labels.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F


def gray_levels(images: torch.Tensor) -> torch.Tensor:
    """N x C x H x W uint8 or float in 0..255 -> N x H x W float grey levels (channel mean)."""
    return images.float().mean(dim=1)


def high_frequency(gray: torch.Tensor) -> torch.Tensor:
    """Per image: mean |x - median3x3(x)| in grey levels. A median filter keeps edges and smooth ramps
    and removes pixel noise, so real images score low and noisy samples high (a blur would also flag
    every sharp stroke)."""
    patches = F.unfold(F.pad(gray[:, None], (1, 1, 1, 1), mode="replicate"), 3)  # N x 9 x HW
    return (gray - patches.median(dim=1).values.view_as(gray)).abs().mean(dim=(1, 2))


def noisy_share(samples: torch.Tensor, real: torch.Tensor, quantile: float = 0.99) -> float:
    """Share of samples above the real images' ``quantile`` of high-frequency energy."""
    limit = torch.quantile(high_frequency(gray_levels(real)), quantile)
    return float((high_frequency(gray_levels(samples)) > limit).float().mean())


def nearest_classes(samples: torch.Tensor, real: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The class of each sample's nearest real image (Euclidean distance of grey levels)."""
    a, b = gray_levels(samples).flatten(1), gray_levels(real).flatten(1)
    return labels[torch.cdist(a, b).argmin(dim=1)]


def coverage(classes: torch.Tensor, k: int) -> tuple[int, float]:
    """(classes with at least a quarter of their uniform share, smallest share relative to uniform)."""
    counts = torch.bincount(classes, minlength=k).float()
    share = counts / counts.sum() * k
    return int((share >= 0.25).sum()), float(share.min())


def colour_cast(images: torch.Tensor) -> float:
    """Mean per-pixel spread between the channels, in grey levels (0 for gray or 1-channel images)."""
    x = images.float()
    return float((x.amax(dim=1) - x.amin(dim=1)).mean())


def load_real(folder: Path, names: list[str] | None = None) -> tuple[torch.Tensor, list[str]]:
    """The real images of a flat folder as N x 3 x H x W uint8, with their file names."""
    import numpy as np
    from PIL import Image

    names = names or sorted(p.name for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    arrays = [np.asarray(Image.open(folder / n).convert("RGB")) for n in names]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous(), names


def inception_scorer(args):
    """quality_budgets.py's scorer: Inception FID / KID against its reference real images."""
    here = Path(__file__).resolve().parent
    sys.path[:0] = [str(here.parents[2] / "benchmarks")]
    import quality_ddpm

    return quality_ddpm.reference_scorer(args, torch.device("cpu"))


def main(argv=None) -> None:
    from safetensors.torch import load_file

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("keep", help="the --keep folder of quality_budgets.py")
    p.add_argument("--data", required=True, help="the folder of real images the models were trained on")
    p.add_argument("--labels", default=None, help="JSON: real image file name -> class index")
    p.add_argument("--json", default=None, help="also append the rows as JSON lines to this file")
    p.add_argument("--fid-weights", default=None, help="Inception weights (docs/metrics.md): also score FID / KID")
    p.add_argument("--n", type=int, default=1000, help="reference real images for FID (quality_budgets.py's --n)")
    p.add_argument("--real-stats", default=None, metavar="FILE", help="quality_budgets.py's --real-stats cache")
    p.add_argument("--res", type=int, default=16)
    p.add_argument("--seed", type=int, default=0, help="quality_budgets.py's --seed")
    p.add_argument("--only", default="", help="score only the sets whose name contains one of these "
                                              "(comma-separated)")
    p.add_argument("--limit", type=int, default=None, help="score the first N samples of each set (compare sets "
                                                           "of different sizes at one N: FID is biased by N)")
    args = p.parse_args(argv)
    scorer = inception_scorer(args) if args.fid_weights else None
    table = json.loads(Path(args.labels).read_text()) if args.labels else None
    real, names = load_real(Path(args.data), sorted(table) if table else None)
    labels = torch.tensor([table[n] for n in names]) if table else None
    k = int(labels.max()) + 1 if table else 0
    print(f"real: {len(real)} images; real high-frequency 99th percentile "
          f"{float(torch.quantile(high_frequency(gray_levels(real)), 0.99)):.2f} grey levels")
    print("| sample set | n | noisy % (real: 1) | classes present | smallest class / uniform | cast |")
    print("|---|---|---|---|---|---|")
    for path in sorted(p for p in Path(args.keep).glob("*.safetensors") if any(o in p.stem for o in args.only.split(","))):
        images = load_file(str(path))["images"][: args.limit]
        row = {"set": path.stem, "n": len(images), "noisy": 100 * noisy_share(images, real),
               "cast": colour_cast(images)}
        if scorer:
            row.update(scorer(images.float() / 127.5 - 1))
        if table:
            row["present"], row["min_share"] = coverage(nearest_classes(images, real, labels), k)
        cells = f"{row['present']}/{k} | {row['min_share']:.2f}" if table else "- | -"
        fid = f" FID {row['fid']:.2f}, KID x 1000 {1000 * row['kid']:.2f}" if scorer else ""
        print(f"| {row['set']} | {row['n']} | {row['noisy']:.1f} | {cells} | {row['cast']:.1f} |{fid}", flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
