"""The benchmark's eye checks (plugins/zoo-ddpm/benchmarks/sample_checks.py) find what they claim to."""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from sample_checks import colour_cast, coverage, nearest_classes, noisy_share  # noqa: E402


def smooth_images(n: int, seed: int) -> torch.Tensor:
    """Blobs with sharp-ish edges and smooth ramps, uint8-like 0..255, N x 3 x 16 x 16 gray."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(16.0), torch.arange(16.0), indexing="ij")
    centre = torch.rand(n, 2, 1, 1, generator=g) * 8 + 4
    r = torch.rand(n, 1, 1, generator=g) * 3 + 2
    d = ((yy - centre[:, 0]) ** 2 + (xx - centre[:, 1]) ** 2).sqrt()
    img = (255 * torch.sigmoid(3 * (r - d))).round()
    return img[:, None].expand(-1, 3, -1, -1).clone()


def test_noise_is_flagged_and_clean_samples_are_not():
    real, clean = smooth_images(400, 0), smooth_images(400, 1)
    noisy = (clean + 40 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(2))).clamp(0, 255)
    assert noisy_share(clean, real) < 0.05
    assert noisy_share(noisy, real) > 0.9


def test_nearest_class_coverage_sees_a_missing_class():
    real = torch.cat([torch.full((5, 3, 4, 4), 20.0 * k) for k in range(10)])
    labels = torch.arange(10).repeat_interleave(5)
    samples = real + 3  # every sample near its own class
    assert coverage(nearest_classes(samples, real, labels), 10) == (10, 1.0)
    present, smallest = coverage(nearest_classes(samples[labels != 7], real, labels), 10)
    assert present == 9 and smallest == 0.0


def test_colour_cast_is_zero_for_gray_and_counts_channel_spread():
    gray = smooth_images(4, 0)
    assert colour_cast(gray) == 0.0
    tinted = gray.clone()
    tinted[:, 0] += 10
    assert abs(colour_cast(tinted) - 10) < 1e-6
