"""Shapes of both stages and D at tiny resolutions, and the config's one-line errors."""

from __future__ import annotations

import pytest
import torch
from zoo_stackgan.config import StackGANConfig
from zoo_stackgan.model import StackGAN
from zoo_stackgan.networks import Discriminator, Stage1Generator, Stage2Generator

from zoo_core.config import build
from zoo_core.errors import ZooError


@pytest.mark.parametrize("res", [8, 16, 64])
def test_stage1_generator_makes_images_at_its_resolution(res):
    g = Stage1Generator(res, z_dim=5, c_dim=3, channels=4, norm="batch")
    x = g(torch.randn(2, 5), torch.randn(2, 3))
    assert x.shape == (2, 3, res, res) and x.abs().max() <= 1


@pytest.mark.parametrize("norm", ["batch", "none"])
@pytest.mark.parametrize("s1", [8, 16])
def test_stage2_generator_upsamples_four_times(s1, norm):
    g = Stage2Generator(c_dim=3, channels=8, res_blocks=2, norm=norm, in_channels=1)
    x = g(torch.rand(2, 1, s1, s1) * 2 - 1, torch.randn(2, 3))
    assert x.shape == (2, 1, 4 * s1, 4 * s1) and x.abs().max() <= 1


@pytest.mark.parametrize("norm", ["batch", "layer", "none"])
@pytest.mark.parametrize("res", [8, 32])
def test_discriminator_gives_one_logit_per_pair(res, norm):
    d = Discriminator(res, text_dim=7, channels=4, compress_dim=3, norm=norm, dropout=0.1)
    out = d(torch.randn(3, 3, res, res), torch.randn(3, 7))
    assert out.shape == (3,)


def _model(**kw) -> StackGAN:
    cfg = StackGANConfig(g_channels=4, g2_channels=4, c_dim=3, z_dim=5, vocab=("red", "blue", "circle"),
                         text_dim=3, **kw)
    return StackGAN(cfg)


def test_two_stage_model_returns_both_stages():
    model = _model(res=32, stage="both", res_blocks=1)
    out = model(torch.randn(2, 5), model.embed(["red circle", "blue circle"]))
    assert out["image1"].shape == (2, 3, 8, 8) and out["image2"].shape == (2, 3, 32, 32)
    assert out["mu2"].shape == out["logvar2"].shape == (2, 3)
    assert "image2" not in model(torch.randn(2, 5), model.embed(["red", "blue"]), stage=1)


def test_stage1_only_model_has_no_stage2():
    model = _model(res=16).eval()  # one image: batch norm needs eval mode (running statistics)
    assert not hasattr(model, "g2") and model(torch.randn(1, 5), model.embed(["red"]))["image1"].shape[-1] == 16


@pytest.mark.parametrize("values, message", [
    ({"res": 48}, "power of two"),
    ({"res": 16, "stage": "both"}, "at least 8"),
    ({"stage1": "runs/x"}, "--stage 2"),
    ({"stage1_steps": 5}, "--stage both"),
    ({"loss": "wgan-gp"}, "--d-norm layer"),
    ({"replay_size": 8}, "captions"),
    ({"text_encoder": "glove"}, "unknown --text-encoder"),
    ({"text_encoder": "embeddings"}, "needs a file"),
])
def test_bad_options_are_one_line_errors(values, message):
    with pytest.raises(ZooError, match=message):
        build(StackGANConfig, values)


def test_wgan_gp_with_layer_norm_is_fine():
    assert build(StackGANConfig, {"loss": "wgan-gp", "d_norm": "layer"}).critic_steps == 5
