"""The reference side: diffusers' UNet2DModel and schedulers configured to the zoo's DDPM.

The mapping, one zoo option to one diffusers argument, so both networks are the same architecture
(the parameter counts are printed next to each other and checked to agree within 2%):

    channels * channel_mults   -> block_out_channels
    num_res_blocks             -> layers_per_block (diffusers' up blocks also get one extra, as ours)
    attn_res (feature-map res) -> AttnDownBlock2D / AttnUpBlock2D at those levels; a mid attention
    num_heads = 1              -> attention_head_dim = None (one head of the full width)
    GroupNorm(32)              -> norm_num_groups = 32
    dropout                    -> dropout
    strided-conv down / nearest+conv up -> Downsample2D(use_conv) / Upsample2D(use_conv)
    timesteps, linear betas, "large" variance -> DDPMScheduler(..., variance_type="fixed_large")
"""

from __future__ import annotations


def unet_kwargs(cfg) -> dict:
    """UNet2DModel(**kwargs) for a resolved zoo ``DDPMConfig`` (unconditional, epsilon output)."""
    if cfg.num_heads != 1 or cfg.scale_shift_norm or cfg.resblock_updown or cfg.num_classes:
        raise ValueError("the matched diffusers U-Net covers the plain DDPM options only")
    if cfg.channels % 32:
        raise ValueError("diffusers' norm_num_groups=32 needs --channels to be a multiple of 32")
    level_res = [cfg.res >> i for i in range(len(cfg.channel_mults))]
    down = tuple("AttnDownBlock2D" if r in cfg.attn_res else "DownBlock2D" for r in level_res)
    up = tuple("AttnUpBlock2D" if r in cfg.attn_res else "UpBlock2D" for r in reversed(level_res))
    return {
        "sample_size": cfg.res, "in_channels": cfg.in_channels, "out_channels": cfg.in_channels,
        "block_out_channels": tuple(cfg.channels * m for m in cfg.channel_mults),
        "layers_per_block": cfg.num_res_blocks, "down_block_types": down, "up_block_types": up,
        "attention_head_dim": None, "norm_num_groups": 32, "dropout": cfg.dropout,
    }


def build_unet(cfg):
    from diffusers import UNet2DModel

    return UNet2DModel(**unet_kwargs(cfg))


def ddpm_scheduler(cfg):
    from diffusers import DDPMScheduler

    return DDPMScheduler(num_train_timesteps=cfg.timesteps, beta_start=cfg.beta_start, beta_end=cfg.beta_end,
                         beta_schedule="linear", variance_type="fixed_large", clip_sample=cfg.clip_denoised)


def ddim_scheduler(cfg):
    from diffusers import DDIMScheduler

    return DDIMScheduler(num_train_timesteps=cfg.timesteps, beta_start=cfg.beta_start, beta_end=cfg.beta_end,
                         beta_schedule="linear", clip_sample=cfg.clip_denoised)


def check_params(zoo_n: int, ref_n: int, tolerance: float = 0.02) -> None:
    if abs(zoo_n - ref_n) > tolerance * zoo_n:
        raise SystemExit(f"architectures differ: zoo {zoo_n:,} vs diffusers {ref_n:,} parameters")
