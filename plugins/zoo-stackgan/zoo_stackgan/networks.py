"""StackGAN's networks (paper Sec. 4): Stage-I and Stage-II generators and the text-aware discriminator.

Widths follow the authors' bird models when ``channels`` is at its default: Stage-I G goes from
16 x 64 = 1024 channels at 4x4 down to 64 at 64x64; Stage-II G encodes the 64x64 image to 16x16
with 4 x 128 channels, joins the replicated text code, runs residual blocks and up-samples four
times to 256x256. Normalisation is a choice (``batch``, ``layer``, ``none``) because people
training StackGAN compare with and without batch norm, and a WGAN-GP critic must not use it.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def norm2d(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)  # LayerNorm over C, H, W; per sample, so safe for gradient penalties
    return nn.Identity()


def conv3x3(cin: int, cout: int, bias: bool = False) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, 1, 1, bias=bias)


def up_block(cin: int, cout: int, norm: str) -> nn.Sequential:
    """Nearest-neighbour x2, 3x3 conv, norm, ReLU (the paper's up-sampling block)."""
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), conv3x3(cin, cout, bias=norm == "none"),
                         norm2d(norm, cout), nn.ReLU(inplace=True))


class ResBlock(nn.Module):
    def __init__(self, channels: int, norm: str):
        super().__init__()
        self.body = nn.Sequential(conv3x3(channels, channels, norm == "none"), norm2d(norm, channels),
                                  nn.ReLU(inplace=True), conv3x3(channels, channels, norm == "none"),
                                  norm2d(norm, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.body(x))


def levels(res: int, to: int = 4) -> int:
    """How many factor-2 steps lie between ``to`` and ``res``."""
    return int(round(math.log2(res / to)))


class Stage1Generator(nn.Module):
    """G0(z, c): FC to 4x4, then up-sampling blocks to ``res``; tanh output in [-1, 1]."""

    def __init__(self, res: int, z_dim: int, c_dim: int, channels: int, norm: str, out_channels: int = 3):
        super().__init__()
        n = levels(res)
        widths = [min(channels * 2 ** (n - k), channels * 16) for k in range(n + 1)]
        self.start = widths[0]
        fc_norm = nn.BatchNorm1d(widths[0] * 16) if norm == "batch" else nn.Identity()
        self.fc = nn.Sequential(nn.Linear(z_dim + c_dim, widths[0] * 16, bias=norm != "batch"), fc_norm,
                                nn.ReLU(inplace=True))
        self.ups = nn.Sequential(*[up_block(widths[k], widths[k + 1], norm) for k in range(n)])
        self.to_rgb = nn.Sequential(conv3x3(widths[-1], out_channels, bias=True), nn.Tanh())

    def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        h = self.fc(torch.cat([z, c], dim=1)).view(z.shape[0], self.start, 4, 4)
        return self.to_rgb(self.ups(h))


class Stage2Generator(nn.Module):
    """G(s0, c): encode the Stage-I image to 1/4 size, join c, residual blocks, up-sample x16 (4x input)."""

    def __init__(self, c_dim: int, channels: int, res_blocks: int, norm: str, in_channels: int = 3):
        super().__init__()
        ch = channels
        self.encode = nn.Sequential(
            conv3x3(in_channels, ch, bias=True), nn.ReLU(inplace=True),
            nn.Conv2d(ch, 2 * ch, 4, 2, 1, bias=norm == "none"), norm2d(norm, 2 * ch), nn.ReLU(inplace=True),
            nn.Conv2d(2 * ch, 4 * ch, 4, 2, 1, bias=norm == "none"), norm2d(norm, 4 * ch), nn.ReLU(inplace=True))
        self.joint = nn.Sequential(conv3x3(4 * ch + c_dim, 4 * ch, norm == "none"), norm2d(norm, 4 * ch),
                                   nn.ReLU(inplace=True))
        self.res = nn.Sequential(*[ResBlock(4 * ch, norm) for _ in range(res_blocks)])
        widths = [4 * ch, 2 * ch, ch, max(ch // 2, 1), max(ch // 4, 1)]
        self.ups = nn.Sequential(*[up_block(widths[k], widths[k + 1], norm) for k in range(4)])
        self.to_rgb = nn.Sequential(conv3x3(widths[-1], in_channels, bias=True), nn.Tanh())

    def forward(self, s0: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        h = self.encode(s0)
        code = c[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])
        h = self.res(self.joint(torch.cat([h, code], dim=1)))
        return self.to_rgb(self.ups(h))


class Discriminator(nn.Module):
    """D(image, phi) -> one logit per pair: does this image look real *and* match this text?

    The image is down-sampled to 4x4 (4x4 stride-2 convs, LeakyReLU 0.2, no norm on the first);
    the text embedding is compressed by a linear layer to ``compress_dim``, replicated over the
    4x4 grid and joined with the image features by a 1x1 conv; a 4x4 conv gives the logit.
    """

    def __init__(self, res: int, text_dim: int, channels: int, compress_dim: int, norm: str,
                 dropout: float = 0.0, in_channels: int = 3):
        super().__init__()
        n = levels(res)
        layers: list[nn.Module] = []
        cin, cout = in_channels, channels
        for k in range(n):
            layers += [nn.Conv2d(cin, cout, 4, 2, 1, bias=k == 0 or norm == "none")]
            if k:
                layers.append(norm2d(norm, cout))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            if dropout:
                layers.append(nn.Dropout(dropout))
            cin, cout = cout, min(cout * 2, channels * 8)
        self.features = nn.Sequential(*layers)
        self.text = nn.Sequential(nn.Linear(text_dim, compress_dim), nn.LeakyReLU(0.2, inplace=True))
        self.joint = nn.Sequential(nn.Conv2d(cin + compress_dim, cin, 1, bias=norm == "none"), norm2d(norm, cin),
                                   nn.LeakyReLU(0.2, inplace=True))
        self.logit = nn.Conv2d(cin, 1, 4)

    def forward(self, image: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
        h = self.features(image)
        t = self.text(phi)[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])
        return self.logit(self.joint(torch.cat([h, t], dim=1))).flatten()


def init_weights(module: nn.Module) -> None:
    """DCGAN initialisation used by the authors: conv/linear N(0, 0.02), norm scales N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d, nn.GroupNorm)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
