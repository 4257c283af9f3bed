"""The growing generator and discriminator (Karras et al. 2018, table 2).

``channels[k]`` is the width of level k. Both networks hold every block up to the final resolution from the start; ``level`` says how many
are in use (level 0 is 4x4, level k is ``4 * 2**k``) and ``alpha`` in [0, 1] fades the newest one
in. During a fade the generator's output is ``lerp(upsample(toRGB_{k-1}(h_{k-1})), toRGB_k(h_k),
alpha)`` and the discriminator's features after block k are ``lerp(fromRGB_{k-1}(avgpool(x)),
block_k(fromRGB_k(x)), alpha)``: at alpha = 0 each network computes exactly what the previous
resolution did, so growing does not disturb the trained lower layers.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .layers import EqualizedConv2d, EqualizedLinear, MinibatchStd, PixelNorm, downsample, lrelu, upsample


def _check_level(level: int, n_levels: int) -> None:
    if not 0 <= level < n_levels:
        raise ValueError(f"level {level} outside 0..{n_levels - 1}")


class GBlock(nn.Module):
    """Upsample, then two 3x3 convs, each followed by leaky ReLU and PixelNorm."""

    def __init__(self, in_ch: int, out_ch: int, pixel_norm: bool = True):
        super().__init__()
        self.conv1 = EqualizedConv2d(in_ch, out_ch, 3, padding=1)
        self.conv2 = EqualizedConv2d(out_ch, out_ch, 3, padding=1)
        self.norm = PixelNorm() if pixel_norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = upsample(x)
        x = self.norm(lrelu(self.conv1(x)))
        return self.norm(lrelu(self.conv2(x)))


class GrowingGenerator(nn.Module):
    """z -> images at the resolution of ``level``; toRGB is a linear 1x1 conv per level."""

    def __init__(self, latent_dim: int, out_channels: int, channels: list[int], pixel_norm: bool = True,
                 dense_norm: str = "flat"):
        super().__init__()
        self.resolutions = [4 * 2**k for k in range(len(channels))]
        c0 = channels[0]
        self.norm = PixelNorm() if pixel_norm else nn.Identity()
        # "pixel": normalise the dense layer's output per pixel of the 4x4 map, as the paper's code and
        # pytorch_GAN_zoo do (imported models); "flat": over the whole 4*4*c0 vector (zoo's own models)
        self.dense_norm = dense_norm
        # The paper's first layer is a 4x4 "conv" on a 1x1 latent: a dense layer to 4*4*c0 features.
        self.dense = EqualizedLinear(latent_dim, c0 * 16, gain=math.sqrt(2.0) / 4)
        self.conv0 = EqualizedConv2d(c0, c0, 3, padding=1)
        self.blocks = nn.ModuleList([GBlock(channels[k - 1], channels[k], pixel_norm)
                                     for k in range(1, len(channels))])
        self.to_rgb = nn.ModuleList([EqualizedConv2d(c, out_channels, 1, gain=1.0) for c in channels])

    def features(self, z: torch.Tensor, level: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Feature maps of block ``level`` and of block ``level - 1`` (None at level 0)."""
        x = self.norm(z)
        if self.dense_norm == "pixel":
            x = self.norm(lrelu(self.dense(x)).reshape(z.shape[0], -1, 4, 4))
        else:
            x = self.norm(lrelu(self.dense(x))).reshape(z.shape[0], -1, 4, 4)
        x = self.norm(lrelu(self.conv0(x)))
        prev = None
        for block in self.blocks[:level]:
            prev, x = x, block(x)
        return x, prev

    def forward(self, z: torch.Tensor, level: int, alpha: float = 1.0) -> torch.Tensor:
        _check_level(level, len(self.resolutions))
        x, prev = self.features(z, level)
        img = self.to_rgb[level](x)
        if prev is not None and alpha < 1:
            old = upsample(self.to_rgb[level - 1](prev))
            img = torch.lerp(old, img, float(alpha))
        return img


class DBlock(nn.Module):
    """Two 3x3 convs with leaky ReLU, then 2x2 average pooling."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.conv1 = EqualizedConv2d(in_ch, in_ch, 3, padding=1)
        self.conv2 = EqualizedConv2d(in_ch, out_ch, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return downsample(lrelu(self.conv2(lrelu(self.conv1(x)))))


class GrowingDiscriminator(nn.Module):
    """Images at the resolution of ``level`` -> one critic score each; fromRGB is a 1x1 conv per level.

    With ``num_classes`` (AC-GAN) the last dense layer also yields class logits: ``(score, logits)``.
    Unlike pytorch_GAN_zoo's, whose class loss reads outputs ``0..K-1`` and so shares output 0 with the
    critic score, the score here is output 0 and the logits are outputs ``1..K``.
    """

    def __init__(self, in_channels: int, channels: list[int], mbstd_group: int = 4, num_classes: int = 0):
        super().__init__()
        self.resolutions = [4 * 2**k for k in range(len(channels))]
        c0 = channels[0]
        self.from_rgb = nn.ModuleList([EqualizedConv2d(in_channels, c, 1) for c in channels])
        # blocks[k - 1] takes level k's features down to level k - 1's
        self.blocks = nn.ModuleList([DBlock(channels[k], channels[k - 1]) for k in range(1, len(channels))])
        self.mbstd = MinibatchStd(mbstd_group) if mbstd_group > 0 else None
        self.conv_final = EqualizedConv2d(c0 + (1 if self.mbstd else 0), c0, 3, padding=1)
        self.dense = EqualizedLinear(c0 * 16, c0)  # the paper's 4x4 "valid" conv
        self.num_classes = num_classes
        self.out = EqualizedLinear(c0, 1 + num_classes, gain=1.0)

    def forward(self, img: torch.Tensor, level: int,
                alpha: float = 1.0) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        _check_level(level, len(self.resolutions))
        x = lrelu(self.from_rgb[level](img))
        if level > 0:
            x = self.blocks[level - 1](x)
            if alpha < 1:
                old = lrelu(self.from_rgb[level - 1](downsample(img)))
                x = torch.lerp(old, x, float(alpha))
        for k in range(level - 1, 0, -1):
            x = self.blocks[k - 1](x)
        if self.mbstd is not None:
            x = self.mbstd(x)
        x = lrelu(self.conv_final(x))
        x = lrelu(self.dense(x.flatten(1)))
        out = self.out(x)
        if self.num_classes:
            return out[:, 0], out[:, 1:]
        return out.squeeze(1)
