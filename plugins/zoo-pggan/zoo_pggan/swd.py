"""Sliced Wasserstein distance on Laplacian pyramids: the PGGAN paper's metric (section 5).

Each image is decomposed into a Laplacian pyramid from its own resolution down to 16x16 (each
level is the image at that size minus the upsampled next-coarser one; the coarsest level is the
16x16 image itself). From every level ``patches_per_image`` random 7x7 neighbourhoods are taken as
147-d descriptors (7 x 7 x 3). Per level and per side (real, generated) the descriptors are
normalised to zero mean and unit std per colour channel; the distance between the two
descriptor sets is the sliced Wasserstein distance: the mean over random unit directions of the
1-D Wasserstein-1 distance between the sorted projections. As in the paper the numbers are x1e3.
Both sides draw patch positions from the same seeded stream, so identical image sets score 0.
The projections and sorts run on ``device`` (a GPU sorts the paper's 2M descriptors per level in
well under a second; a CPU takes several seconds per level).
Fine levels measure detail (edges, noise), the 16x16 level the large-scale colour layout.

Built by ``zoo eval --metrics swd`` (it needs raw images, not extractor features)::

    SlicedWasserstein(extractor=None, model=None, device=None, seed=0, *, patches_per_image=128,
                      patch_size=7, min_res=16, directions=128, repeats=4)

``compute()`` returns ``{"swd_<res>": ..., for each level, "swd_avg": mean over levels}``.
Memory: the descriptors are kept (float16, CPU): ``2 sides x levels x N x patches_per_image x
147 x 2`` bytes, about 1.4 GB for 10k images at 3 levels with the paper's 128 patches per image;
lower ``patches_per_image`` for more images.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from zoo_core.errors import ZooError
from zoo_core.rng import seeded

_BINOMIAL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


def _blur(x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    """Separable 5x5 binomial (Gaussian) filter with mirrored borders, per channel."""
    c = x.shape[1]
    k = (_BINOMIAL.to(x.device, x.dtype) * gain)
    x = F.pad(x, (2, 2, 2, 2), mode="reflect")
    x = F.conv2d(x, k.reshape(1, 1, 1, 5).expand(c, 1, 1, 5), groups=c)
    return F.conv2d(x, k.reshape(1, 1, 5, 1).expand(c, 1, 5, 1), groups=c)


def pyr_down(x: torch.Tensor) -> torch.Tensor:
    return _blur(x)[:, :, ::2, ::2]


def pyr_up(x: torch.Tensor) -> torch.Tensor:
    n, c, h, w = x.shape
    up = x.new_zeros(n, c, 2 * h, 2 * w)
    up[:, :, ::2, ::2] = x
    return _blur(up, gain=2.0)  # 2 per axis: the zeros take 3/4 of the energy away


def laplacian_pyramid(images: torch.Tensor, min_res: int = 16) -> dict[int, torch.Tensor]:
    """``{res: level}`` from the images' resolution down to ``min_res`` (the coarsest is Gaussian)."""
    levels: dict[int, torch.Tensor] = {}
    x = images
    while x.shape[-1] > min_res and x.shape[-1] % 2 == 0:
        down = pyr_down(x)
        levels[x.shape[-1]] = x - pyr_up(down)
        x = down
    levels[x.shape[-1]] = x
    return levels


def random_patches(level: torch.Tensor, k: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """``k`` random ``size`` x ``size`` neighbourhoods per image, flattened: ``[N * k, C * size * size]``."""
    n, c, h, w = level.shape
    size = min(size, h, w)
    ys = torch.randint(0, h - size + 1, (n, k), generator=generator)
    xs = torch.randint(0, w - size + 1, (n, k), generator=generator)
    offs = torch.arange(size)
    rows = (ys[..., None] + offs).to(level.device)  # [n, k, size]
    cols = (xs[..., None] + offs).to(level.device)
    idx_n = torch.arange(n, device=level.device)[:, None, None, None]
    patches = level[idx_n, :, rows[..., :, None], cols[..., None, :]]  # [n, k, size, size, c]
    return patches.permute(0, 1, 4, 2, 3).reshape(n * k, c * size * size)


def normalize_descriptors(desc: torch.Tensor, channels: int) -> torch.Tensor:
    """Zero mean and unit std per colour channel over all descriptors and positions."""
    d = desc.float().reshape(len(desc), channels, -1)
    mean = d.mean(dim=(0, 2), keepdim=True)
    std = d.std(dim=(0, 2), keepdim=True).clamp_min(1e-8)
    return ((d - mean) / std).reshape(len(desc), -1)


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, directions: int, repeats: int,
                       generator: torch.Generator) -> float:
    """Mean over ``repeats * directions`` random unit directions of the 1-D W1 distance of projections.

    Unequal set sizes are compared at ``min(len(a), len(b))`` evenly spaced quantiles.
    """
    m = min(len(a), len(b))
    q = torch.linspace(0, 1, m, device=a.device)

    def quantiles(p: torch.Tensor) -> torch.Tensor:
        p = p.sort(dim=0).values
        if len(p) == m:
            return p
        pos = q * (len(p) - 1)
        lo = pos.floor().long()
        hi = (lo + 1).clamp(max=len(p) - 1)
        return torch.lerp(p[lo], p[hi], (pos - lo)[:, None])

    total = 0.0
    for _ in range(repeats):
        dirs = torch.randn(a.shape[1], directions, generator=generator).to(a.device)
        dirs = dirs / dirs.norm(dim=0, keepdim=True)
        total += float((quantiles(a @ dirs) - quantiles(b @ dirs)).abs().mean())
    return total / repeats


class SlicedWasserstein:
    """Streaming SWD between real and generated images (the :class:`zoo_core.protocols.Metric` protocol)."""

    name = "swd"
    needs = "images"
    needs_real = True
    needs_fake = True

    def __init__(self, extractor: Any = None, model: Any = None, device: Any = None, seed: int = 0, *,
                 patches_per_image: int = 128, patch_size: int = 7, min_res: int = 16, directions: int = 128,
                 repeats: int = 4, **unknown: Any):
        if unknown:
            raise ZooError(f"swd: unknown option(s) {sorted(unknown)} "
                           "(patches_per_image, patch_size, min_res, directions, repeats)")
        for key, value in dict(patches_per_image=patches_per_image, patch_size=patch_size, min_res=min_res,
                               directions=directions, repeats=repeats).items():
            if not isinstance(value, int) or value < 1:
                raise ZooError(f"swd: {key} must be a positive integer, got {value!r}")
        self.patches_per_image, self.patch_size, self.min_res = patches_per_image, patch_size, min_res
        self.directions, self.repeats, self.seed = directions, repeats, seed
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.reset()

    def reset(self) -> None:
        self.desc: dict[bool, dict[int, list[torch.Tensor]]] = {True: {}, False: {}}
        self.channels: int | None = None
        self._gen = {True: seeded(self.seed),
                     False: seeded(self.seed)}  # same positions: identical sets give 0

    @torch.no_grad()
    def update(self, images: torch.Tensor, *, real: bool) -> None:
        """Add a batch of images in [-1, 1] (NCHW) from the data (``real=True``) or the model."""
        if images.dim() != 4:
            raise ZooError(f"swd expects NCHW images, got shape {tuple(images.shape)}")
        if self.channels is not None and images.shape[1] != self.channels:
            raise ZooError(f"swd: images have {images.shape[1]} channels, earlier ones had {self.channels}")
        self.channels = images.shape[1]
        pyramid = laplacian_pyramid(images.float(), min(self.min_res, images.shape[-1]))
        for res, level in pyramid.items():
            d = random_patches(level, self.patches_per_image, self.patch_size, self._gen[real])
            self.desc[real].setdefault(res, []).append(d.to("cpu", torch.float16))

    def compute(self) -> dict[str, float]:
        real, fake = self.desc[True], self.desc[False]
        if not real or not fake:
            raise ZooError(f"swd: no {'real' if not real else 'generated'} images were given")
        common = sorted(set(real) & set(fake), reverse=True)
        if not common:
            raise ZooError(f"swd: real images ({max(real)}px) and generated ones ({max(fake)}px) share no pyramid "
                           "level; evaluate them at the same resolution")
        g = seeded(self.seed + 2)
        out = {}
        for res in common:
            a = normalize_descriptors(torch.cat(real[res]).to(self.device), self.channels)
            b = normalize_descriptors(torch.cat(fake[res]).to(self.device), self.channels)
            out[f"swd_{res}"] = 1e3 * sliced_wasserstein(a, b, self.directions, self.repeats, g)
        out["swd_avg"] = sum(out.values()) / len(common)
        return out

    def real_state(self) -> dict[str, torch.Tensor]:
        """The real side's descriptors, for ``zoo eval --save-stats``."""
        state = {f"swd.desc.{res}": torch.cat(parts) for res, parts in self.desc[True].items()}
        if self.channels is not None:
            state["swd.channels"] = torch.tensor(self.channels)
        return state

    def load_real_state(self, state: dict[str, torch.Tensor]) -> None:
        levels = {int(k.rsplit(".", 1)[1]): v for k, v in state.items() if k.startswith("swd.desc.")}
        if not levels or "swd.channels" not in state:
            raise ZooError("swd needs the real descriptors, which these statistics do not hold "
                           "(save them with --save-stats while evaluating swd)")
        self.desc[True] = {res: [v.to(torch.float16)] for res, v in levels.items()}
        self.channels = int(state["swd.channels"])
