"""DCGAN's two all-convolutional networks.

Both follow the paper's guidelines: no pooling (strided convolutions in D, fractionally strided
ones or PixelShuffle in G), batch norm in G and (by default) D but not on G's output or D's input
layer, ReLU in G with a tanh output, LeakyReLU(0.2) in D, no fully connected hidden layers, weights
drawn from N(0, 0.02). Depth follows the resolution: G projects z to 4x4 and doubles the size
``log2(res) - 2`` times; D mirrors it and ends with a 4x4 convolution to one logit.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from zoo_core.gan.acgan import one_hot_after

MAX_MULT = 8  # widths stop doubling at 8 x --channels (512 for the default 64), as in the paper's 64x64 nets


def level_widths(res: int, channels: int) -> list[int]:
    """Feature widths at 4x4, 8x8, ..., res/2 (G's order; D walks it backwards)."""
    levels = int(math.log2(res)) - 2
    return [channels * min(2 ** (levels - 1 - i), MAX_MULT) for i in range(levels)]


def init_weights(module: nn.Module) -> None:
    """The paper's initialisation: conv weights N(0, 0.02); norm scales N(1, 0.02), shifts 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def _up(cin: int, cout: int, mode: str, bias: bool = False) -> list[nn.Module]:
    """Double the size: a stride-2 transposed 4x4 convolution, or a 3x3 convolution + PixelShuffle."""
    if mode == "pixelshuffle":
        return [nn.Conv2d(cin, cout * 4, 3, 1, 1, bias=bias), nn.PixelShuffle(2)]
    return [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=bias)]


class GeneratorNet(nn.Module):
    """z (and a one-hot class, or one per attribute) -> 4x4 -> ... -> res x res image in [-1, 1]."""

    def __init__(self, z_dim: int, res: int, channels: int, out_channels: int, upsample: str = "convtranspose",
                 class_sizes: tuple[int, ...] = ()):
        super().__init__()
        widths = level_widths(res, channels)
        self.class_sizes = tuple(class_sizes)  # one-hot inputs per attribute after z
        layers: list[nn.Module] = [nn.ConvTranspose2d(z_dim + sum(class_sizes), widths[0], 4, 1, 0, bias=False),
                                   nn.BatchNorm2d(widths[0]), nn.ReLU(True)]
        for cin, cout in zip(widths, widths[1:], strict=False):
            layers += [*_up(cin, cout, upsample), nn.BatchNorm2d(cout), nn.ReLU(True)]
        layers += [*_up(widths[-1], out_channels, upsample, bias=True), nn.Tanh()]  # no norm: a bias instead
        self.net = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, z: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        z = one_hot_after(z, label, self.class_sizes)
        return self.net(z.reshape(z.shape[0], -1, 1, 1))


def _norm(kind: str, width: int) -> list[nn.Module]:
    if kind == "batch":
        return [nn.BatchNorm2d(width)]
    if kind == "instance":
        return [nn.InstanceNorm2d(width, affine=True)]
    return []


class Discriminator(nn.Module):
    """res x res image -> one logit (and class logits for AC-GAN), by strided 4x4 convolutions."""

    def __init__(self, res: int, channels: int, in_channels: int, norm: str = "batch", num_classes: int = 0):
        super().__init__()
        widths = level_widths(res, channels)[::-1]  # res/2 ... 4x4
        layers: list[nn.Module] = [nn.Conv2d(in_channels, widths[0], 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for cin, cout in zip(widths, widths[1:], strict=False):
            layers += [nn.Conv2d(cin, cout, 4, 2, 1, bias=norm not in ("batch", "instance")),
                       *_norm(norm, cout), nn.LeakyReLU(0.2, True)]
        self.features = nn.Sequential(*layers)
        self.score = nn.Conv2d(widths[-1], 1, 4, 1, 0)
        self.classify = nn.Conv2d(widths[-1], num_classes, 4, 1, 0) if num_classes else None
        init_weights(self)
        if norm == "spectral":
            for m in list(self.modules()):
                if isinstance(m, nn.Conv2d):
                    nn.utils.parametrizations.spectral_norm(m)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        h = self.features(x)
        score = self.score(h).flatten()
        if self.classify is None:
            return score
        return score, self.classify(h).flatten(1)
