"""The paper's building blocks (Karras et al. 2018, section 4 and appendix A).

* Equalized learning rate: weights are stored as N(0, 1) and multiplied at run time by the He
  constant ``gain / sqrt(fan_in)``. Adam divides updates by a running gradient scale, so with
  the constant outside the parameter every layer learns at the same speed whatever its fan-in.
* PixelNorm: each pixel's feature vector is scaled to unit mean square (G only, after each conv);
  it replaces batch norm and keeps G and D from escalating signal magnitudes.
* Minibatch standard deviation: D sees one extra feature map, the average over features and
  pixels of the per-group standard deviation, so it can tell a batch with too little variation.
* Resampling is nearest-neighbour up (G) and 2x2 average pooling down (D and the real images).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LRELU_SLOPE = 0.2


def he_scale(fan_in: int, gain: float = math.sqrt(2.0)) -> float:
    """The run-time weight multiplier of an equalized layer: ``gain / sqrt(fan_in)``."""
    return gain / math.sqrt(fan_in)


class EqualizedConv2d(nn.Module):
    """A conv whose weight is N(0, 1) in storage and scaled by :func:`he_scale` in ``forward``."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, padding: int = 0, gain: float = math.sqrt(2.0)):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_ch))
        self.scale = he_scale(in_ch * kernel * kernel, gain)
        self.padding = padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)

    def extra_repr(self) -> str:
        o, i, k, _ = self.weight.shape
        return f"{i}, {o}, kernel={k}, padding={self.padding}, scale={self.scale:.4g}"


class EqualizedLinear(nn.Module):
    """A dense layer with the same run-time He scaling as :class:`EqualizedConv2d`."""

    def __init__(self, in_features: int, out_features: int, gain: float = math.sqrt(2.0)):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.scale = he_scale(in_features, gain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)

    def extra_repr(self) -> str:
        o, i = self.weight.shape
        return f"{i}, {o}, scale={self.scale:.4g}"


class PixelNorm(nn.Module):
    """``x / sqrt(mean_c(x^2) + eps)``: unit mean square over channels at every pixel."""

    def __init__(self, eps: float = 1e-8):
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + self.eps)


def group_size_for(batch: int, group: int) -> int:
    """The largest group size <= ``group`` that divides ``batch`` (so any batch size works)."""
    g = max(1, min(group, batch))
    while batch % g:
        g -= 1
    return g


class MinibatchStd(nn.Module):
    """Append one feature map: the mean over (C, H, W) of the std over each group of samples.

    The batch is split into groups of ``group`` samples (the paper uses 4; smaller when the batch
    is not divisible); the std is the population std within a group, ``sqrt(var + 1e-8)``, and
    every sample of a group gets the same constant map.
    """

    def __init__(self, group: int = 4):
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = group_size_for(n, self.group)
        y = x.reshape(g, n // g, c, h, w).float()
        y = (y - y.mean(dim=0)).pow(2).mean(dim=0).add(1e-8).sqrt()  # [n/g, c, h, w]
        y = y.mean(dim=(1, 2, 3)).to(x.dtype)  # [n/g]
        y = y.reshape(1, n // g, 1, 1, 1).expand(g, n // g, 1, h, w).reshape(n, 1, h, w)
        return torch.cat([x, y], dim=1)


def upsample(x: torch.Tensor) -> torch.Tensor:
    """2x nearest-neighbour upsampling (the paper's G and fade-in path)."""
    return F.interpolate(x, scale_factor=2, mode="nearest")


def downsample(x: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """``factor`` x average pooling (the paper's D, fade-in path and real-image resizing)."""
    return x if factor == 1 else F.avg_pool2d(x, factor)


def lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, LRELU_SLOPE)
