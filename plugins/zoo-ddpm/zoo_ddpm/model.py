"""The DDPM Generator: a U-Net plus its diffusion process, ready to ``generate``."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from zoo_core.errors import ZooError
from zoo_core.generation import class_labels, generate, sampler_fn
from zoo_core.modeling import ZooModelMixin, unexpected_arguments

from .config import DDPMConfig
from .diffusion import GaussianDiffusion, make_betas, space_timesteps
from .unet import UNet

#: ``generate``'s ancestral step count unless the variance is Ho et al.'s b_t: Nichol & Dhariwal (2021) show
#: learned variances, and to a lesser degree the posterior b~_t, keep ancestral sampling's quality at 100
#: respaced steps. On unseen digits, learned: 100 steps scored what all 1,000 did (29.9 vs 29.95,
#: docs/quality_iddpm.md); b~_t (ddpm's default): 43.4 vs 57.5, and diffusers' recipe 181.1 vs 176.1
#: (docs/quality_ddpm.md). b_t loses most when respaced (136.0 at 100 vs 67.2 at 1,000): it keeps all T.
RESPACED_ANCESTRAL_STEPS = 100


class DDPM(ZooModelMixin, nn.Module):
    """A denoising diffusion model; ``generate(n, seed=...)`` returns images in [-1, 1]."""

    zoo_name = "ddpm"

    def __init__(self, config: DDPMConfig):
        super().__init__()
        self.config = config
        learned = config.variance == "learned"
        self.unet = UNet(
            in_channels=config.in_channels, out_channels=config.in_channels * (2 if learned else 1),
            channels=config.channels, channel_mults=config.channel_mults, num_res_blocks=config.num_res_blocks,
            attn_res=config.attn_res, res=config.res, dropout=config.dropout, num_heads=config.num_heads,
            scale_shift_norm=config.scale_shift_norm, resblock_updown=config.resblock_updown,
            num_classes=config.num_classes, norm_groups=config.norm_groups, norm_eps=config.norm_eps,
            flip_sin_to_cos=config.flip_sin_to_cos, freq_shift=config.freq_shift, down_pad=config.down_pad,
            time_scale=config.time_scale,
        )
        betas = make_betas(config.beta_schedule, config.timesteps, config.beta_start, config.beta_end,
                           zero_terminal_snr=config.zero_terminal_snr)
        self.diffusion = GaussianDiffusion(betas, variance=config.variance, prediction=config.prediction)

    @classmethod
    def adapt_config(cls, config, data_info):
        """Nothing to adapt for unconditional DDPM; class-conditional subclasses read the labels."""
        return config

    def denoise(self, x: torch.Tensor, t: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        """The raw network output at (x_t, t): the prediction (``config.prediction``: eps, v or x0), then
        the variance interpolation when the variance is learned. ``diffusion.to_x0/to_eps`` read it."""
        return self.unet(x, t, label)

    def _cond(self, n: int, label, generator) -> dict:
        labels = class_labels(n, label, self.config.num_classes, generator, next(self.parameters()).device,
                              self.zoo_name)
        return {} if labels is None else {"label": labels}

    @torch.no_grad()
    def generate(self, n: int, *, seed: int | None = None, sampler: str | None = None, steps: int | None = None,
                 batch_size: int | None = None, progress: bool = False, label: int | None = None,
                 eta: float | None = None, **kwargs) -> torch.Tensor:
        """``n`` images in [-1, 1]; ``sampler`` is the model's default (``zoo info NAME``: dpm++ in 20 steps
        for ddpm, ancestral in 100 respaced steps for iddpm), ancestral, ddim, dpm++ or heun; ``steps`` < T
        respaces ancestral sampling and sets the others' step count (default: ``default_steps``)."""
        if kwargs:
            raise unexpected_arguments(self, kwargs)
        name, fn = sampler_fn(self, sampler)
        if steps is None:
            steps = self._default_steps(name, fn)
        extra = {"eta": eta} if eta is not None else {}
        if eta is not None and name != "ddim":
            raise ZooError("eta (--eta) applies to the ddim sampler only")
        if isinstance(steps, str):  # a respacing string such as "10,15,20" (iDDPM's Python API)
            total_steps = len(space_timesteps(self.config.timesteps, steps))  # its ZooError names the spec
        elif not 1 <= steps <= self.config.timesteps:
            raise ZooError(f"steps (--steps) must be between 1 and {self.config.timesteps}, got {steps}")
        else:
            total_steps = steps
        return generate(self, n, seed=seed, sampler=name, steps=steps, batch_size=batch_size, progress=progress,
                        bar_steps=total_steps, per_batch=lambda k, _, g: {"cond": self._cond(k, label, g)}, **extra)

    def default_steps(self, sampler: str | None = None) -> int:
        """The sampling steps ``generate`` takes with ``sampler`` (default: the model's) when none are
        given: the few-step samplers' own (dpm++ 20, heun 18, ddim 50), ancestral ``RESPACED_ANCESTRAL_STEPS``
        respaced steps with learned or posterior (small) variances and all T with b_t (large); never more than T.
        ``zoo sample`` records it in the PNG metadata."""
        return self._default_steps(*sampler_fn(self, sampler))

    def _default_steps(self, name: str, fn) -> int:
        own = getattr(fn, "default_steps", None)
        if own is None and name == "ancestral" and self.config.variance != "large":
            own = RESPACED_ANCESTRAL_STEPS
        return min(own or self.config.timesteps, self.config.timesteps)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(self.config).items() if k in ("res", "channels"))
