"""The cosine schedule, the learned-variance interpolation and the iDDPM config defaults."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from zoo_ddpm.diffusion import GaussianDiffusion, cosine_betas
from zoo_iddpm.config import IDDPMConfig
from zoo_iddpm.model import IDDPM

from zoo_core.config import build
from zoo_core.data import DataInfo
from zoo_core.errors import ZooError


def f(t: float, T: int, s: float = 0.008) -> float:
    return math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2


@pytest.mark.parametrize("T", [50, 1000, 4000])
def test_cosine_alpha_bar_is_f_t_over_f_0(T):
    betas = cosine_betas(T)
    ab = np.cumprod(1 - betas)
    expected = np.array([f(t + 1, T) / f(0, T) for t in range(T)])
    clipped = betas >= 0.999
    assert clipped.any() and clipped[-1] and not clipped[: T // 2].any()  # only the very end is clipped
    first = np.argmax(clipped)
    np.testing.assert_allclose(ab[:first], expected[:first], rtol=1e-9, atol=1e-12)
    assert betas.max() == pytest.approx(0.999) and (betas > 0).all()
    assert (np.diff(betas) > 0).all()  # noise is added ever faster


def test_cosine_known_values():
    betas = cosine_betas(1000)
    # ab at the midpoint: cos^2(((0.5 + s)/(1 + s)) pi/2) / cos^2((s/(1 + s)) pi/2)
    assert np.cumprod(1 - betas)[499] == pytest.approx(f(500, 1000) / f(0, 1000), rel=1e-9)
    assert f(500, 1000) / f(0, 1000) == pytest.approx(0.493844, abs=1e-5)  # by hand: 0.702686^2 / 0.999845
    assert betas[0] == pytest.approx(1 - f(1, 1000) / f(0, 1000), rel=1e-12)
    assert betas[0] < 5e-5  # far gentler start than linear's 1e-4 at T = 1000


def test_learned_variance_interpolates_between_posterior_and_beta():
    d = GaussianDiffusion(cosine_betas(100), variance="learned")
    t = torch.arange(100).repeat_interleave(5)
    v = torch.linspace(-1, 1, 5).repeat(100).reshape(-1, 1, 1, 1)
    logvar = d.model_log_variance(v, t, (500, 1, 1, 1)).reshape(100, 5).double()
    lo = torch.as_tensor(d.posterior_log_variance_clipped)[:, None]
    hi = torch.as_tensor(np.log(d.betas))[:, None]
    torch.testing.assert_close(logvar[:, :1], lo.float().double(), rtol=0, atol=1e-5)  # v = -1: beta~
    torch.testing.assert_close(logvar[:, -1:], hi.float().double(), rtol=0, atol=1e-5)  # v = 1: beta
    assert ((logvar >= lo - 1e-5) & (logvar <= hi + 1e-5)).all()
    assert (logvar.diff(dim=1) >= -1e-6).all()  # monotone in v
    # Sigma = exp(v' log beta + (1 - v') log beta~) with v' = (v + 1) / 2: a geometric mean at v = 0
    mid = torch.exp(logvar[:, 2])
    torch.testing.assert_close(mid, torch.sqrt(torch.exp(lo[:, 0]) * torch.exp(hi[:, 0])), rtol=1e-4, atol=0)


def test_iddpm_defaults_are_the_papers():
    cfg = IDDPMConfig(res=16, channels=16)
    assert (cfg.beta_schedule, cfg.variance, cfg.loss, cfg.vlb_weight) == ("cosine", "learned", "hybrid", 0.001)
    assert cfg.num_heads == 4 and cfg.attn_res == (16, 8) and cfg.scale_shift_norm and cfg.resblock_updown
    model = IDDPM(cfg)
    np.testing.assert_array_equal(model.diffusion.betas, cosine_betas(1000))
    assert model.unet.out[-1].out_channels == 6  # eps and v
    preset = IDDPMConfig.PRESETS["cifar10"]
    assert (preset["timesteps"], preset["channels"], preset["num_res_blocks"], preset["dropout"],
            preset["lr"], preset["batch_size"]) == (4000, 128, 3, 0.3, 1e-4, 128)
    build(IDDPMConfig, {k: v for k, v in preset.items() if k in IDDPMConfig.__dataclass_fields__})


@pytest.mark.parametrize("values, message", [
    ({"loss": "hybrid", "variance": "small"}, "--loss hybrid"),
    ({"loss": "simple"}, "--loss simple"),
    ({"num_classes": 3}, "--class-cond"),
])
def test_bad_combinations_are_one_line_errors(values, message):
    with pytest.raises(ZooError, match=message):
        build(IDDPMConfig, values)


def test_class_cond_takes_classes_from_the_data():
    cfg = IDDPMConfig(res=8, channels=8, class_cond=True)
    assert IDDPM.adapt_config(cfg, DataInfo(size=4, num_classes=3, class_names=["a", "b", "c"])).num_classes == 3
    assert IDDPM.adapt_config(IDDPMConfig(res=8, channels=8), DataInfo(size=4, num_classes=3)).num_classes == 0
    with pytest.raises(ZooError, match="needs labelled data"):
        IDDPM.adapt_config(cfg, DataInfo(size=4))
