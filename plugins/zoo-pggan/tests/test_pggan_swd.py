"""Sliced Wasserstein distance on Laplacian pyramids."""

import pytest
import torch
from zoo_pggan.swd import SlicedWasserstein, laplacian_pyramid, pyr_down, pyr_up, random_patches

from zoo_core.errors import ZooError

OPTS = dict(patches_per_image=32, directions=32, repeats=2)


def blobs(n: int, seed: int, res: int = 32) -> torch.Tensor:
    """Discs of random colour, place and size on a dark background."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, res), torch.linspace(-1, 1, res), indexing="ij")
    c = torch.rand(n, 2, generator=g) * 1.2 - 0.6
    r = torch.rand(n, generator=g) * 0.3 + 0.2
    colour = torch.rand(n, 3, generator=g) * 2 - 1
    mask = (((xx - c[:, 0, None, None]) ** 2 + (yy - c[:, 1, None, None]) ** 2) < r[:, None, None] ** 2).float()
    return mask[:, None] * colour[:, :, None, None] + (1 - mask[:, None]) * -0.8


def swd(real: torch.Tensor, fake: torch.Tensor, **kw) -> dict:
    m = SlicedWasserstein(**{**OPTS, **kw})
    for i in range(0, len(real), 20):
        m.update(real[i:i + 20], real=True)
    for i in range(0, len(fake), 20):
        m.update(fake[i:i + 20], real=False)
    return m.compute()


def test_pyramid_levels_reconstruct_the_image():
    x = torch.randn(2, 3, 64, 64)
    levels = laplacian_pyramid(x, min_res=16)
    assert sorted(levels) == [16, 32, 64]
    rec = pyr_up(pyr_up(levels[16]) + levels[32]) + levels[64]
    torch.testing.assert_close(rec, x, atol=1e-5, rtol=0)
    torch.testing.assert_close(levels[16], pyr_down(pyr_down(x)))
    # a constant image has no detail: the Laplacian levels away from the borders are 0
    flat = laplacian_pyramid(torch.full((1, 3, 32, 32), 0.3))
    assert flat[32][..., 4:-4, 4:-4].abs().max() < 1e-6


def test_patches_are_neighbourhoods():
    level = torch.arange(2 * 3 * 10 * 10, dtype=torch.float32).reshape(2, 3, 10, 10)
    p = random_patches(level, 5, 7, torch.Generator().manual_seed(0))
    assert p.shape == (10, 3 * 49)
    patch = p[7].reshape(3, 7, 7)  # image 1
    y, x = divmod(int(patch[0, 0, 0] - 300), 10)
    torch.testing.assert_close(patch, level[1, :, y:y + 7, x:x + 7])


def test_identical_sets_score_zero_and_distortions_score_more():
    real = blobs(40, seed=1)
    same = swd(real, real)
    assert set(same) == {"swd_32", "swd_16", "swd_avg"}
    assert max(same.values()) < 1e-6
    other = blobs(40, seed=2)  # a second draw of the same distribution: sampling noise only
    base = swd(real, other)
    noisy = swd(real, (other + 0.3 * torch.randn(40, 3, 32, 32)).clamp(-1, 1))
    blurred = swd(real, pyr_up(pyr_down(other)))
    assert noisy["swd_32"] > 5 * base["swd_32"]  # the fine level sees added noise...
    assert blurred["swd_32"] > 1.7 * base["swd_32"]  # ...and lost detail
    assert noisy["swd_avg"] > 2 * base["swd_avg"]
    # the paper normalises each side's descriptors per colour channel: an affine colour change is invisible
    assert swd(real, 0.5 * other + 0.1)["swd_avg"] == pytest.approx(base["swd_avg"], rel=0.02)


def test_unequal_counts_real_state_round_trip_and_errors():
    real, fake = blobs(40, seed=3), blobs(25, seed=4)
    m = SlicedWasserstein(**OPTS)
    m.update(real, real=True)
    m.update(fake, real=False)
    value = m.compute()
    state = m.real_state()
    again = SlicedWasserstein(**OPTS)
    again.load_real_state(state)
    again.update(fake, real=False)
    assert again.compute() == pytest.approx(value)
    m.reset()
    with pytest.raises(ZooError, match="no real"):
        m.compute()
    m.update(blobs(4, 0, res=16), real=True)
    m.update(blobs(4, 0, res=64)[..., :8, :8], real=False)
    with pytest.raises(ZooError, match="share no pyramid level"):
        m.compute()
    with pytest.raises(ZooError, match="unknown option"):
        SlicedWasserstein(nhood=3)


def test_registered_and_built_by_the_metrics_registry():
    from zoo_core.metrics import build_metric

    m = build_metric("swd", seed=0, **OPTS)
    assert isinstance(m, SlicedWasserstein) and m.needs == "images"
