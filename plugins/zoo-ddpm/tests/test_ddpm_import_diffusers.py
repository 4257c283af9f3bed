"""diffusers-format DDPM checkpoints convert exactly: same denoiser output, same schedule, same sampler step.

The published google/ddpm-* configs are rebuilt here at small widths with random weights (diffusers is
a test dependency), saved in diffusers' own layout, converted, and compared with diffusers' forward.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

diffusers = pytest.importorskip("diffusers")

from zoo_core import from_pretrained  # noqa: E402
from zoo_core.convert import convert  # noqa: E402
from zoo_core.errors import ZooError  # noqa: E402
from zoo_core.importing import seeded_state_dict  # noqa: E402

# google/ddpm-cifar10-32's config.json, widths scaled from (128, 256, 256, 256) / 32 groups
CIFAR10 = {"block_out_channels": [16, 32, 32, 32], "down_block_types": ["DownBlock2D", "AttnDownBlock2D",
           "DownBlock2D", "DownBlock2D"], "up_block_types": ["UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"],
           "sample_size": 32, "norm_num_groups": 8}
# google/ddpm-celebahq-256 / church / bedroom / cat: six levels, attention at 16 px (here 64 px -> 4 px)
CELEBAHQ = {"block_out_channels": [8, 8, 16, 16, 32, 32], "down_block_types": ["DownBlock2D"] * 4 + [
            "AttnDownBlock2D", "DownBlock2D"], "up_block_types": ["UpBlock2D", "AttnUpBlock2D"] + ["UpBlock2D"] * 4,
            "sample_size": 64, "norm_num_groups": 4}
# iDDPM's U-Net options as diffusers writes them: scale-shift time conditioning and residual up/down-sampling
# (ResnetDownsampleBlock2D / ResnetUpsampleBlock2D where there is no attention, "resnet" on the attention
# blocks), attention at two levels of different widths with one head of the full width; with scale_shift
# diffusers' mid-block attention has a GroupNorm only when attn_norm_num_groups is given
IDDPM = {"block_out_channels": [8, 16, 16], "down_block_types": ["AttnDownBlock2D", "AttnDownBlock2D",
         "ResnetDownsampleBlock2D"], "up_block_types": ["ResnetUpsampleBlock2D", "AttnUpBlock2D", "AttnUpBlock2D"],
         "sample_size": 16, "norm_num_groups": 4, "attn_norm_num_groups": 4, "resnet_time_scale_shift": "scale_shift",
         "downsample_type": "resnet", "upsample_type": "resnet"}
GOOGLE = {"act_fn": "silu", "attention_head_dim": None, "center_input_sample": False, "downsample_padding": 0,
          "flip_sin_to_cos": False, "freq_shift": 1, "in_channels": 3, "layers_per_block": 2,
          "mid_block_scale_factor": 1, "norm_eps": 1e-06, "out_channels": 3, "time_embedding_type": "positional"}
SCHEDULER = {"_class_name": "DDPMScheduler", "beta_end": 0.02, "beta_schedule": "linear", "beta_start": 0.0001,
             "clip_sample": True, "num_train_timesteps": 1000, "trained_betas": None, "variance_type": "fixed_large"}


def _matched():
    """benchmarks/matched.py, the quality benchmark's zoo -> diffusers mapping (not an installed module)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
    try:
        import matched
    finally:
        sys.path.pop(0)
    return matched


def _unet(config: dict, seed: int = 0):
    """A published config's UNet2DModel with every tensor N(0, 0.2^2), so that every weight matters."""
    unet = diffusers.UNet2DModel(**GOOGLE, **config).eval()
    unet.load_state_dict(seeded_state_dict({k: v.shape for k, v in unet.state_dict().items()}, seed, std=0.2))
    return unet


def _save(unet, folder, scheduler: dict | None = None, pipeline: bool = False):
    """Write diffusers' layouts: the UNet at the top (google's repos) or a model_index.json pipeline."""
    sched = {**SCHEDULER, **(scheduler or {})}
    if pipeline:
        unet.save_pretrained(folder / "unet")
        (folder / "scheduler").mkdir()
        (folder / "scheduler" / "scheduler_config.json").write_text(json.dumps(sched))
        (folder / "model_index.json").write_text(json.dumps(
            {"_class_name": "DDPMPipeline", "unet": ["diffusers", "UNet2DModel"],
             "scheduler": ["diffusers", "DDPMScheduler"]}))
    else:
        unet.save_pretrained(folder)
        (folder / "scheduler_config.json").write_text(json.dumps(sched))
    return folder


@pytest.mark.parametrize("config", [CIFAR10, CELEBAHQ], ids=["cifar10-32", "celebahq-256"])
def test_denoiser_equals_unet2dmodel(config, tmp_path):
    unet = _unet(config)
    src = _save(unet, tmp_path / "src")
    model = from_pretrained(convert(src, tmp_path / "zoo"), device="cpu")
    res = config["sample_size"]
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, res, res, generator=g)
    t = torch.tensor([3, 917])
    with torch.no_grad():
        want = unet(x, t).sample
        got = model.denoise(x, t)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_residual_resampling_and_scale_shift_equal_unet2dmodel(tmp_path):
    """diffusers' ResnetBlock2D(down=True / up=True) is the zoo's resblock_updown block, weight for weight."""
    unet = _unet(IDDPM, seed=11)
    model = from_pretrained(convert(_save(unet, tmp_path / "src"), tmp_path / "zoo"), device="cpu")
    assert model.config.resblock_updown and model.config.scale_shift_norm and model.config.attn_res == (16, 8)
    x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(4))
    t = torch.tensor([7, 811])
    with torch.no_grad():
        torch.testing.assert_close(model.denoise(x, t), unet(x, t).sample, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("mults, attn_res, heads", [((1, 2), (16, 8), 1), ((1, 1), (8,), 4)],
                         ids=["attention-widths-differ", "one-attention-width"])
def test_benchmark_reference_unet_is_the_zoo_iddpm_unet(mults, attn_res, heads, tmp_path):
    """quality_budgets' reference (benchmarks/matched.py) for iDDPM's U-Net options converts back to those
    options, with as many parameters as the zoo's own network; heads as matched.py's docstring explains."""
    from zoo_ddpm.config import DDPMConfig
    from zoo_ddpm.model import DDPM

    matched = _matched()
    cfg = DDPMConfig(res=16, channels=32, channel_mults=mults, num_res_blocks=1, attn_res=attn_res, num_heads=4,
                     scale_shift_norm=True, resblock_updown=True)
    unet = matched.build_unet(cfg).eval()
    model = from_pretrained(convert(_save(unet, tmp_path / "src"), tmp_path / "zoo"), device="cpu")
    fields = ("res", "channels", "channel_mults", "num_res_blocks", "attn_res", "scale_shift_norm",
              "resblock_updown", "dropout")
    assert {f: getattr(model.config, f) for f in fields} == {f: getattr(cfg, f) for f in fields}
    assert model.config.num_heads == heads
    n = sum(p.numel() for p in unet.parameters())
    assert sum(p.numel() for p in model.unet.parameters()) == n == sum(p.numel() for p in DDPM(cfg).unet.parameters())


def test_pipeline_layout_bin_weights_and_schedule(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))  # where on-the-fly conversions go
    unet = _unet(CIFAR10, seed=3)
    src = _save(unet, tmp_path / "src", {"variance_type": "fixed_small"}, pipeline=True)
    weights = src / "unet" / "diffusion_pytorch_model.safetensors"
    torch.save(unet.state_dict(), src / "unet" / "diffusion_pytorch_model.bin")  # the older .bin layout
    weights.unlink()
    model = from_pretrained(src, device="cpu")  # a diffusers folder converts on the fly
    assert model.config.variance == "small" and model.config.down_pad == "tf" and model.config.norm_eps == 1e-6
    sched = diffusers.DDPMScheduler.from_pretrained(src / "scheduler")
    np.testing.assert_allclose(model.diffusion.betas, sched.betas.double().numpy(), rtol=1e-6, atol=0)
    np.testing.assert_allclose(model.diffusion.alphas_cumprod, sched.alphas_cumprod.double().numpy(), rtol=1e-5)
    x, t = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(3)), torch.tensor([500])
    with torch.no_grad():
        torch.testing.assert_close(model.denoise(x, t), unet(x, t).sample, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("variance", ["fixed_large", "fixed_small"])
def test_one_ancestral_step_equals_ddpm_scheduler(variance, tmp_path):
    unet = _unet(CIFAR10, seed=5)
    model = from_pretrained(convert(_save(unet, tmp_path / "src", {"variance_type": variance}), tmp_path / "zoo"),
                            device="cpu")
    sched = diffusers.DDPMScheduler(**{k: v for k, v in SCHEDULER.items() if not k.startswith("_")}
                                    | {"variance_type": variance})
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    # At t = 1 diffusers recomputes beta_1 as 1 - ab_1 / ab_0 in float32, which loses 3-4 of its digits (the
    # noise scale differs by ~5e-4 relative, 5e-5 absolute); zoo keeps the schedule in float64.
    for step, tol in ((999, 1e-5), (600, 1e-5), (1, 1e-4)):
        with torch.no_grad():
            out = unet(x, step).sample
        want = sched.step(out, step, x, generator=torch.Generator().manual_seed(7)).prev_sample
        t = torch.full((2,), step)
        p = model.diffusion.p_mean_variance(model.denoise(x, t), x, t, clip=model.config.clip_denoised)
        noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(7))
        got = p["mean"] + torch.exp(0.5 * p["log_variance"]) * noise
        torch.testing.assert_close(got, want, atol=tol, rtol=tol)


def test_ddim_sampler_equals_ddim_scheduler_loop(tmp_path):
    """zoo's DDIM with the DDIM paper's stride (``ddim5``) is diffusers' DDIMScheduler ("leading" spacing)."""
    from zoo_ddpm.samplers import ddim

    unet = _unet(CIFAR10, seed=9)
    model = from_pretrained(convert(_save(unet, tmp_path / "src"), tmp_path / "zoo"), device="cpu")
    sched = diffusers.DDIMScheduler(**{k: v for k, v in SCHEDULER.items() if k not in ("_class_name", "variance_type")})
    sched.set_timesteps(5)
    x_T = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    x = x_T.clone()
    with torch.no_grad():
        for step in sched.timesteps:
            # zoo recomputes eps from the clipped x0 (as the DDIM paper's code does)
            x = sched.step(unet(x, step).sample, step, x, eta=0.0, use_clipped_model_output=True).prev_sample
        got = ddim(model, 1, generator=torch.Generator(), steps="ddim5", x_T=x_T)
    # five chained steps on diffusers' float32 schedule: 5 of 3072 values differ by up to 2.4e-5
    torch.testing.assert_close(got, x, atol=5e-5, rtol=1e-5)


def test_unsupported_configs_are_one_line_errors(tmp_path):
    from zoo_ddpm.importers import zoo_config

    with pytest.raises(ZooError, match="SkipDownBlock2D"):
        zoo_config({**GOOGLE, **CIFAR10, "down_block_types": ["SkipDownBlock2D"] * 4}, SCHEDULER)
    # residual down-sampling where there is no attention, conv down-sampling on the attention blocks
    with pytest.raises(ZooError, match="some levels resample with convolutions and others with residual"):
        zoo_config({**GOOGLE, **IDDPM, "downsample_type": "conv"}, SCHEDULER)
    with pytest.raises(ZooError, match="upsample_type 'conv_transpose' has no zoo equivalent"):
        zoo_config({**GOOGLE, **IDDPM, "upsample_type": "conv_transpose"}, SCHEDULER)
    with pytest.raises(ZooError, match="mid-block attention has no GroupNorm"):
        zoo_config({**GOOGLE, **IDDPM, "attn_norm_num_groups": None}, SCHEDULER)
    with pytest.raises(ZooError, match="prediction_type 'v_prediction'"):
        zoo_config({**GOOGLE, **CIFAR10}, {**SCHEDULER, "prediction_type": "v_prediction"})
    with pytest.raises(ZooError, match="does not mirror"):
        zoo_config({**GOOGLE, **CIFAR10, "up_block_types": ["UpBlock2D"] * 4}, SCHEDULER)
    src = _save(_unet(CIFAR10), tmp_path / "src")
    (src / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(ZooError, match="has no diffusion_pytorch_model.safetensors or"):
        convert(src, tmp_path / "zoo")


@pytest.mark.parametrize("variance,expected", [("small", "fixed_small"), ("learned", "fixed_small"),
                                               ("large", "fixed_large")])
def test_benchmark_reference_scheduler_keeps_the_recipes_variance(variance, expected, tmp_path):
    """The quality benchmark's reference samples as train_unconditional's pipeline does: its DDPMScheduler has
    diffusers' default fixed_small (an iDDPM zoo side included); only a zoo config sampling with b_t gets
    fixed_large, for step-for-step comparisons. The converted model samples with the matching zoo variance."""
    from zoo_ddpm.config import DDPMConfig

    matched = _matched()
    kw = {"loss": "hybrid"} if variance == "learned" else {}
    sched = matched.ddpm_scheduler(DDPMConfig(res=32, variance=variance, **kw))
    assert sched.config.variance_type == expected
    sched.save_pretrained(tmp_path / "src")
    _unet(CIFAR10, seed=1).save_pretrained(tmp_path / "src")
    model = from_pretrained(convert(tmp_path / "src", tmp_path / "zoo"), device="cpu")
    assert model.config.variance == expected.removeprefix("fixed_")
