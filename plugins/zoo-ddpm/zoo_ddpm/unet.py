"""The DDPM U-Net (Ho et al. 2020) with the options Improved DDPM adds.

Residual blocks with GroupNorm and dropout, a sinusoidal timestep embedding added to every block
(or, with ``scale_shift_norm``, modulating its second norm), self-attention at chosen feature-map
resolutions through ``scaled_dot_product_attention``, skip connections between the down and up
paths, optional class embedding and residual up/down-sampling.

The defaults are the zoo's own layout. A few options exist so that published networks run here
exactly (see zoo_ddpm.importers): Ho et al.'s TensorFlow model as diffusers ships it orders its time
embedding sin-first with frequencies over ``half - 1`` (``flip_sin_to_cos=False, freq_shift=1``),
uses GroupNorm eps 1e-6 and pads strided down-sampling convolutions on the right/bottom only
(``down_pad="tf"``, TensorFlow's "SAME"); improved-diffusion's released models saw their timesteps
scaled to [0, 1000) (``time_scale=1000/T``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0, flip_sin_to_cos: bool = True,
                       freq_shift: float = 0.0) -> torch.Tensor:
    """Sinusoidal embedding of (possibly fractional) timesteps, as in the Transformer.

    Frequencies are ``max_period ** (-i / (half - freq_shift))``; the cosines come first unless
    ``flip_sin_to_cos`` is False (Ho et al.'s order).
    """
    half = dim // 2
    exponent = -math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device)
    args = t.float()[:, None] * torch.exp(exponent / (half - freq_shift))[None]
    parts = [torch.cos(args), torch.sin(args)]
    emb = torch.cat(parts if flip_sin_to_cos else parts[::-1], dim=-1)
    return F.pad(emb, (0, 1)) if dim % 2 else emb


def norm(ch: int, groups: int = 0, eps: float = 1e-5) -> nn.GroupNorm:
    """GroupNorm with ``groups`` groups (0: 32, or ch/4 when 32 does not divide ch)."""
    return nn.GroupNorm(groups or (min(32, ch // 4) if ch % 32 else 32), ch, eps=eps)


class Resample(nn.Module):
    """Nearest up-sampling + conv, or strided-conv down-sampling.

    ``pad="tf"`` pads a down-sampling conv by one pixel on the right and bottom only (TensorFlow's
    "SAME" for stride 2, which Ho et al.'s published models were trained with) instead of one all round.
    """

    def __init__(self, ch: int, up: bool, pad: str = "same"):
        super().__init__()
        self.up, self.tf_pad = up, (not up and pad == "tf")
        self.conv = nn.Conv2d(ch, ch, 3, stride=1 if up else 2, padding=0 if self.tf_pad else 1)

    def forward(self, x):
        if self.up:
            return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))
        return self.conv(F.pad(x, (0, 1, 0, 1)) if self.tf_pad else x)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, emb_dim: int, dropout: float, scale_shift: bool = False,
                 resample: str | None = None, norm_fn=norm):
        super().__init__()
        self.scale_shift, self.resample = scale_shift, resample
        self.norm1, self.conv1 = norm_fn(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb_dim, cout * (2 if scale_shift else 1))
        self.norm2, self.drop = norm_fn(cout), nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)
        self.skip = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)

    def _resample(self, x):
        if self.resample == "up":
            return F.interpolate(x, scale_factor=2.0, mode="nearest")
        if self.resample == "down":
            return F.avg_pool2d(x, 2)
        return x

    def forward(self, x, emb):
        h = F.silu(self.norm1(x))
        h = self.conv1(self._resample(h))
        x = self._resample(x)
        e = self.emb(F.silu(emb))[:, :, None, None]
        if self.scale_shift:
            scale, shift = e.chunk(2, dim=1)
            h = self.norm2(h) * (1 + scale) + shift
        else:
            h = self.norm2(h + e)
        h = self.conv2(self.drop(F.silu(h)))
        return self.skip(x) + h


class Attention(nn.Module):
    def __init__(self, ch: int, heads: int = 1, norm_fn=norm):
        super().__init__()
        if ch % heads:
            raise ValueError(f"{ch} channels do not split into {heads} attention heads")
        self.heads, self.norm = heads, norm_fn(ch)
        self.qkv, self.proj = nn.Conv2d(ch, 3 * ch, 1), nn.Conv2d(ch, ch, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x, emb=None):
        # The 1x1 convolutions are applied as matmuls over (b, hw, c) tokens: the same weights and
        # maths, but q/k/v come out with a unit last stride, which lets scaled_dot_product_attention
        # pick its fused (flash) kernel instead of the bmm/softmax fallback, and the projections run
        # as one GEMM each rather than torch's slow 1x1-convolution path on small CPU batches.
        b, c, h, w = x.shape
        tokens = self.norm(x).flatten(2).transpose(1, 2)  # b, hw, c (a view for channels_last input)
        qkv = F.linear(tokens, self.qkv.weight.view(3 * c, c), self.qkv.bias)
        q, k, v = qkv.view(b, h * w, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        out = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, h * w, c)
        out = F.linear(out, self.proj.weight.view(c, c), self.proj.bias)
        return x + out.transpose(1, 2).view(b, c, h, w)


class UNet(nn.Module):
    def __init__(self, in_channels: int = 3, out_channels: int | None = None, channels: int = 64,
                 channel_mults=(1, 2, 2, 2), num_res_blocks: int = 2, attn_res=(16,), res: int = 32,
                 dropout: float = 0.1, num_heads: int = 1, scale_shift_norm: bool = False,
                 resblock_updown: bool = False, num_classes: int = 0, norm_groups: int = 0, norm_eps: float = 1e-5,
                 flip_sin_to_cos: bool = True, freq_shift: float = 0.0, down_pad: str = "same",
                 time_scale: float = 1.0):
        super().__init__()
        out_channels = out_channels or in_channels
        emb_dim = channels * 4
        self.channels, self.num_classes = channels, num_classes
        self.flip_sin_to_cos, self.freq_shift, self.time_scale = flip_sin_to_cos, freq_shift, time_scale
        self.time = nn.Sequential(nn.Linear(channels, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.label = nn.Embedding(num_classes, emb_dim) if num_classes else None
        norm_fn = lambda ch: norm(ch, norm_groups, norm_eps)  # noqa: E731
        block = lambda i, o, r=None: ResBlock(i, o, emb_dim, dropout, scale_shift_norm, r, norm_fn)  # noqa: E731
        attention = lambda ch: Attention(ch, num_heads, norm_fn)  # noqa: E731
        self.inp = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.down, skips, ch, cur = nn.ModuleList(), [channels], channels, res
        for level, mult in enumerate(channel_mults):
            for _ in range(num_res_blocks):
                layers = [block(ch, channels * mult)]
                ch = channels * mult
                if cur in attn_res:
                    layers.append(attention(ch))
                self.down.append(nn.ModuleList(layers))
                skips.append(ch)
            if level != len(channel_mults) - 1:
                self.down.append(nn.ModuleList([block(ch, ch, "down") if resblock_updown
                                                else Resample(ch, up=False, pad=down_pad)]))
                skips.append(ch)
                cur //= 2
        self.mid = nn.ModuleList([block(ch, ch), attention(ch), block(ch, ch)])
        self.up = nn.ModuleList()
        for level, mult in reversed(list(enumerate(channel_mults))):
            for i in range(num_res_blocks + 1):
                layers = [block(ch + skips.pop(), channels * mult)]
                ch = channels * mult
                if cur in attn_res:
                    layers.append(attention(ch))
                if level and i == num_res_blocks:
                    layers.append(block(ch, ch, "up") if resblock_updown else Resample(ch, up=True))
                    cur *= 2
                self.up.append(nn.ModuleList(layers))
        self.out = nn.Sequential(norm_fn(ch), nn.SiLU(), nn.Conv2d(ch, out_channels, 3, padding=1))
        nn.init.zeros_(self.out[-1].weight)
        nn.init.zeros_(self.out[-1].bias)

    @staticmethod
    def _run(layers, h, emb):
        for layer in layers:
            h = layer(h, emb) if isinstance(layer, (ResBlock, Attention)) else layer(h)
        return h

    def forward(self, x: torch.Tensor, t: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        if self.time_scale != 1.0:  # improved-diffusion's rescale_timesteps: the network saw t * 1000 / T
            t = t.float() * self.time_scale
        emb = self.time(timestep_embedding(t, self.channels, flip_sin_to_cos=self.flip_sin_to_cos,
                                              freq_shift=self.freq_shift).to(x.dtype))
        if self.label is not None:
            if label is None:
                raise ValueError("this model is class-conditional: pass a label")
            emb = emb + self.label(label)
        hs = [self.inp(x)]
        for layers in self.down:
            hs.append(self._run(layers, hs[-1], emb))
        h = self._run(self.mid, hs[-1], emb)
        for layers in self.up:
            h = self._run(layers, torch.cat([h, hs.pop()], dim=1), emb)
        return self.out(h)
