"""The paper's layers: equalized learning rate, PixelNorm, minibatch stddev, resampling."""

import math

import pytest
import torch
import torch.nn.functional as F
from zoo_pggan.layers import (
    EqualizedConv2d,
    EqualizedLinear,
    MinibatchStd,
    PixelNorm,
    downsample,
    group_size_for,
    he_scale,
    upsample,
)


def test_he_constant():
    assert he_scale(9 * 16) == pytest.approx(math.sqrt(2 / 144))
    assert he_scale(64, gain=1.0) == pytest.approx(1 / 8)


def test_equalized_conv_stores_unit_normal_and_scales_at_run_time():
    torch.manual_seed(0)
    conv = EqualizedConv2d(32, 64, 3, padding=1)
    assert conv.scale == pytest.approx(math.sqrt(2 / (32 * 9)))
    w = conv.weight.detach()
    assert abs(w.mean().item()) < 0.02 and w.std().item() == pytest.approx(1.0, abs=0.02)  # N(0, 1) in storage
    x = torch.randn(2, 32, 5, 5)
    expected = F.conv2d(x, w * math.sqrt(2 / 288), conv.bias, padding=1)
    torch.testing.assert_close(conv(x), expected)


def test_equalized_linear_scales_at_run_time():
    torch.manual_seed(0)
    lin = EqualizedLinear(50, 7, gain=1.0)
    x = torch.randn(3, 50)
    torch.testing.assert_close(lin(x), x @ (lin.weight.detach() / math.sqrt(50)).T)


def test_pixel_norm_gives_unit_mean_square_per_pixel():
    x = torch.randn(3, 16, 4, 5) * torch.rand(3, 1, 4, 5) * 10
    y = PixelNorm()(x)
    torch.testing.assert_close(y.pow(2).mean(dim=1), torch.ones(3, 4, 5), atol=1e-5, rtol=0)
    # it only rescales: directions are kept
    torch.testing.assert_close(y / y.norm(dim=1, keepdim=True), x / x.norm(dim=1, keepdim=True))


def test_minibatch_std_adds_one_map_with_the_group_std():
    torch.manual_seed(0)
    x = torch.randn(8, 5, 3, 3)
    y = MinibatchStd(group=4)(x)
    assert y.shape == (8, 6, 3, 3)
    torch.testing.assert_close(y[:, :5], x)
    # group g holds samples g, g + 2, g + 4, g + 6 (the paper's strided grouping)
    for g in range(2):
        members = x[g::2]
        value = (members.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
        for i in range(g, 8, 2):
            torch.testing.assert_close(y[i, 5], torch.full((3, 3), value.item()))
    # identical samples: no variation, the map is ~0
    same = MinibatchStd(4)(x[:1].expand(4, -1, -1, -1).contiguous())
    assert same[:, 5].abs().max() < 1e-3


def test_minibatch_group_size_divides_any_batch():
    assert group_size_for(8, 4) == 4
    assert group_size_for(6, 4) == 3
    assert group_size_for(7, 4) == 1
    assert group_size_for(2, 4) == 2
    assert MinibatchStd(4)(torch.randn(7, 2, 2, 2)).shape == (7, 3, 2, 2)


def test_resampling_is_nearest_up_and_average_down():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    up = upsample(x)
    assert up.shape == (1, 1, 8, 8) and up[0, 0, 2:4, 2:4].eq(x[0, 0, 1, 1]).all()
    torch.testing.assert_close(downsample(up), x)  # average pooling undoes nearest upsampling
    assert downsample(x)[0, 0, 0, 0].item() == pytest.approx((0 + 1 + 4 + 5) / 4)
