"""The reference side: diffusers' UNet2DModel and schedulers configured to the zoo's DDPM or iDDPM U-Net.

The mapping, one zoo option to one diffusers argument, so both networks are the same architecture
(the parameter counts are printed next to each other and checked to agree within 2%):

    channels * channel_mults   -> block_out_channels
    num_res_blocks             -> layers_per_block (diffusers' up blocks also get one extra, as ours)
    attn_res (feature-map res) -> AttnDownBlock2D / AttnUpBlock2D at those levels; a mid attention
    num_heads                  -> attention_head_dim (see below)
    GroupNorm(32)              -> norm_num_groups = 32
    dropout                    -> dropout
    strided-conv down / nearest+conv up -> Downsample2D(use_conv) / Upsample2D(use_conv)
    scale_shift_norm           -> resnet_time_scale_shift = "scale_shift", and attn_norm_num_groups = 32
                                  (with scale_shift diffusers' mid-block attention otherwise has no GroupNorm;
                                  ours always has one)
    resblock_updown            -> downsample_type / upsample_type = "resnet" on the attention blocks and
                                  ResnetDownsampleBlock2D / ResnetUpsampleBlock2D elsewhere (DownBlock2D
                                  and UpBlock2D ignore those arguments and always resample with a conv):
                                  diffusers' ResnetBlock2D(down/up=True) is our residual resampling block,
                                  2x2 average pool / nearest 2x after norm1 + SiLU, before conv1, and on
                                  the skip path too (the importer's exactness test checks it)
    timesteps, linear betas, variance      -> DDPMScheduler(...); "large" -> fixed_large, else fixed_small

Heads: the zoo keeps a head COUNT per attention layer, diffusers a head WIDTH (heads = width //
attention_head_dim). Where every attention layer (the levels in attn_res and the middle) has one width,
attention_head_dim = width // num_heads gives the same heads everywhere. Where the widths differ (iDDPM's
defaults: attention at 16 px, 32 channels, and at 8 px and the middle, 64 channels) no head width gives
one count, and the reference is converted to a zoo model for sampling, which needs one count to be exact,
so the reference uses one head of the full width (attention_head_dim None). Heads do not change the
parameter count; they are the one difference between the two networks.

The recipe on that U-Net stays diffusers' own (eps prediction, linear betas, fixed variance, out_channels
= in_channels) also when the zoo side is iDDPM: it is what a user of diffusers would run.
"""

from __future__ import annotations


def attention_head_dim(cfg) -> int | None:
    """diffusers' head width giving the zoo config's head count in every attention layer, or None (one head
    of the full width) when the attention layers differ in width (module docstring)."""
    widths = [cfg.channels * m for m in cfg.channel_mults]
    attn = {w for i, w in enumerate(widths) if cfg.res >> i in cfg.attn_res} | {widths[-1]}
    if cfg.num_heads == 1 or len(attn) != 1:
        return None
    return attn.pop() // cfg.num_heads


def unet_kwargs(cfg) -> dict:
    """UNet2DModel(**kwargs) for a resolved zoo ``DDPMConfig`` or ``IDDPMConfig`` (unconditional,
    epsilon output)."""
    if cfg.num_classes:
        raise ValueError("the matched diffusers U-Net is unconditional")
    if cfg.channels % 32:
        raise ValueError("diffusers' norm_num_groups=32 needs --channels to be a multiple of 32")
    level_res = [cfg.res >> i for i in range(len(cfg.channel_mults))]
    plain_down, plain_up = ("ResnetDownsampleBlock2D", "ResnetUpsampleBlock2D") if cfg.resblock_updown else (
        "DownBlock2D", "UpBlock2D")
    down = tuple("AttnDownBlock2D" if r in cfg.attn_res else plain_down for r in level_res)
    up = tuple("AttnUpBlock2D" if r in cfg.attn_res else plain_up for r in reversed(level_res))
    resample = "resnet" if cfg.resblock_updown else "conv"
    return {
        "sample_size": cfg.res, "in_channels": cfg.in_channels, "out_channels": cfg.in_channels,
        "block_out_channels": tuple(cfg.channels * m for m in cfg.channel_mults),
        "layers_per_block": cfg.num_res_blocks, "down_block_types": down, "up_block_types": up,
        "attention_head_dim": attention_head_dim(cfg), "norm_num_groups": 32, "dropout": cfg.dropout,
        "resnet_time_scale_shift": "scale_shift" if cfg.scale_shift_norm else "default",
        "attn_norm_num_groups": 32 if cfg.scale_shift_norm else None,
        "downsample_type": resample, "upsample_type": resample,
    }


def build_unet(cfg):
    from diffusers import UNet2DModel

    return UNet2DModel(**unet_kwargs(cfg))


def ddpm_scheduler(cfg):
    from diffusers import DDPMScheduler

    # the recipe's DDPMScheduler keeps diffusers' default variance (fixed_small); a zoo config that samples
    # with b_t (Ho et al.'s, variance large) gets fixed_large, so the two samplers stay step-for-step equal
    variance = "fixed_large" if cfg.variance == "large" else "fixed_small"
    return DDPMScheduler(num_train_timesteps=cfg.timesteps, beta_start=cfg.beta_start, beta_end=cfg.beta_end,
                         beta_schedule="linear", variance_type=variance, clip_sample=cfg.clip_denoised)


def ddim_scheduler(cfg):
    from diffusers import DDIMScheduler

    return DDIMScheduler(num_train_timesteps=cfg.timesteps, beta_start=cfg.beta_start, beta_end=cfg.beta_end,
                         beta_schedule="linear", clip_sample=cfg.clip_denoised)


def check_params(zoo_n: int, ref_n: int, tolerance: float = 0.02) -> None:
    if abs(zoo_n - ref_n) > tolerance * zoo_n:
        raise SystemExit(f"architectures differ: zoo {zoo_n:,} vs diffusers {ref_n:,} parameters")
