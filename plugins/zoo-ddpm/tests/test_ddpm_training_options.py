"""Training options of every diffusion model against closed forms: eps/v/x0 prediction, Min-SNR-gamma,
zero-terminal-SNR rescaling, and the NLL of a plain DDPM."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from zoo_ddpm.config import DDPMConfig
from zoo_ddpm.diffusion import (
    GaussianDiffusion,
    cosine_betas,
    linear_betas,
    make_betas,
    rescale_zero_terminal_snr,
)

from zoo_core.config import build
from zoo_core.errors import ZooError

T = 50


def _process(prediction: str, variance: str = "large", ztsnr: bool = False) -> GaussianDiffusion:
    betas = make_betas("linear", T, zero_terminal_snr=ztsnr)
    return GaussianDiffusion(betas, variance=variance, prediction=prediction)


@pytest.mark.parametrize("variance", ["large", "learned"])
@pytest.mark.parametrize("prediction", ["eps", "v", "x0"])
def test_to_x0_and_to_eps_invert_every_target(prediction, variance):
    torch.manual_seed(0)
    d = _process(prediction, variance)
    x0, noise = torch.rand(6, 3, 4, 4) * 2 - 1, torch.randn(6, 3, 4, 4)
    t = torch.tensor([0, 1, 10, 25, 48, 49])
    xt = d.q_sample(x0, t, noise)
    out = d.target(x0, noise, t)
    if variance == "learned":  # the variance channels must be ignored
        out = torch.cat([out, torch.randn_like(out)], dim=1)
    torch.testing.assert_close(d.to_x0(out, xt, t), x0, atol=2e-4, rtol=1e-4)
    torch.testing.assert_close(d.to_eps(out, xt, t), noise, atol=2e-4, rtol=1e-4)


def test_v_target_is_alpha_eps_minus_sigma_x0():
    d = _process("v")
    x0, noise, t = torch.randn(3, 1, 2, 2), torch.randn(3, 1, 2, 2), torch.tensor([0, 20, 49])
    ab = torch.as_tensor(d.alphas_cumprod[[0, 20, 49]], dtype=torch.float32).view(-1, 1, 1, 1)
    torch.testing.assert_close(d.target(x0, noise, t), ab.sqrt() * noise - (1 - ab).sqrt() * x0)


def test_min_snr_weights_make_every_prediction_the_same_x0_loss():
    """An error d in x0 costs min(SNR, gamma) d^2 whichever quantity the network predicts (Hang et al.)."""
    torch.manual_seed(1)
    gamma = 5.0
    x0, noise = torch.rand(T, 1, 4, 4) * 2 - 1, torch.randn(T, 1, 4, 4)
    t = torch.arange(T)
    x0_hat = x0 + 0.1 * torch.randn_like(x0)  # the one prediction, written in each parameterisation
    snr = torch.as_tensor(_process("eps").snr, dtype=torch.float32)
    expected = torch.minimum(snr, torch.tensor(gamma)) * (x0_hat - x0).pow(2).mean(dim=(1, 2, 3))
    for prediction in ("eps", "v", "x0"):
        d = _process(prediction)
        xt = d.q_sample(x0, t, noise)
        sigma = torch.as_tensor(d.sqrt_one_minus_alphas_cumprod, dtype=torch.float32).view(-1, 1, 1, 1)
        eps_hat = (xt - d.q_sample(x0_hat, t, torch.zeros_like(x0))) / sigma  # xt = alpha x0_hat + sigma eps_hat
        pred = d.target(x0_hat, eps_hat, t)
        loss = d.simple_loss(pred, d.target(x0, noise, t), t, min_snr_gamma=gamma)
        torch.testing.assert_close(loss, expected, rtol=2e-3, atol=1e-6, msg=prediction)
    w = _process("eps").min_snr_weight(t, gamma).flatten().double()
    torch.testing.assert_close(w, torch.minimum(torch.ones(T, dtype=torch.float64), gamma / snr.double()),
                               rtol=1e-5, atol=0)


@pytest.mark.parametrize("betas", [linear_betas(1000), cosine_betas(1000), linear_betas(20)])
def test_zero_terminal_snr_rescaling_is_lin_et_al(betas):
    new = rescale_zero_terminal_snr(betas)
    old_s, new_s = np.sqrt(np.cumprod(1 - betas)), np.sqrt(np.cumprod(1 - new))
    assert new_s[-1] == 0 and new_s[0] == pytest.approx(old_s[0], rel=1e-12)
    # sqrt(ab) is shifted and scaled: an affine map of the old one
    a = (new_s[0] - new_s[-1]) / (old_s[0] - old_s[-1])
    np.testing.assert_allclose(new_s, a * (old_s - old_s[-1]), rtol=1e-9, atol=1e-12)
    assert ((new > 0) & (new <= 1)).all() and new[-1] == 1.0


def test_zero_terminal_snr_process_with_v_prediction():
    d = _process("v", ztsnr=True)
    assert d.zero_terminal_snr and d.snr[-1] == 0
    x0, noise = torch.rand(2, 3, 4, 4) * 2 - 1, torch.randn(2, 3, 4, 4)
    t = torch.full((2,), T - 1)
    xt = d.q_sample(x0, t, noise)
    torch.testing.assert_close(xt, noise)  # the last step is pure noise
    out = d.target(x0, noise, t)  # v = -x0 at SNR 0
    torch.testing.assert_close(out, -x0)
    torch.testing.assert_close(d.to_x0(out, xt, t), x0)
    p = d.p_mean_variance(out, xt, t, clip=False)
    assert torch.isfinite(p["mean"]).all() and torch.isfinite(p["log_variance"]).all()
    assert d.prior_bpd(x0).abs().max() < 1e-6  # KL(N(0, 1) || N(0, 1))
    assert float(d.min_snr_weight(t, 5.0).max()) == 0.0  # v at SNR 0: min(0, g) / 1


def test_zero_terminal_snr_needs_v_or_x0():
    with pytest.raises((ValueError, ZooError), match="--prediction v"):
        build(DDPMConfig, {"zero_terminal_snr": True, "prediction": "eps"})
    cfg = build(DDPMConfig, {"zero_terminal_snr": True, "prediction": "v"})
    assert cfg.zero_terminal_snr


@pytest.mark.parametrize("prediction", ["eps", "v", "x0"])
def test_training_losses_regress_the_prediction_target(prediction):
    d = _process(prediction)
    torch.manual_seed(2)
    x0, noise, t = torch.rand(4, 3, 4, 4) * 2 - 1, torch.randn(4, 3, 4, 4), torch.tensor([0, 7, 30, 49])
    out = torch.randn(4, 3, 4, 4)
    parts = d.training_losses(lambda x, s: out, x0, t, noise=noise)
    torch.testing.assert_close(parts["loss"], (out - d.target(x0, noise, t)).pow(2).mean(dim=(1, 2, 3)))
    exact = d.training_losses(lambda x, s: d.target(x0, noise, t), x0, t, noise=noise)["loss"]
    assert exact.abs().max() < 1e-10


def test_a_plain_ddpm_has_nll_for_any_prediction():
    """zoo-ddpm registers the nll metric; the bound reads x0 through to_x0, so an eps model and a v model
    making the same prediction get the same bits/dim."""
    from zoo_ddpm.model import DDPM
    from zoo_ddpm.nll import bits_per_dim

    from zoo_core.plugins import registry

    spec = registry().metric("nll")
    assert spec.factory == "zoo_ddpm.nll:NLLMetric" and spec.distribution == "zoo-ddpm"
    tiny = {"res": 8, "channels": 8, "num_res_blocks": 1, "timesteps": 20, "in_channels": 1,
            "zero_terminal_snr": False}
    eps_model, v_model = DDPM(DDPMConfig(**tiny, prediction="eps")), DDPM(DDPMConfig(**tiny, prediction="v"))
    d = eps_model.diffusion
    fake_eps = lambda x, t, **_: 0.8 * x + 0.01 * t.view(-1, 1, 1, 1)  # noqa: E731
    eps_model.denoise = fake_eps

    def fake_v(x, t, **_):
        x0 = d.to_x0(fake_eps(x, t), x, t)
        return v_model.diffusion.target(x0, fake_eps(x, t), t)

    v_model.denoise = fake_v
    images = torch.randint(0, 256, (3, 1, 8, 8)).float() / 127.5 - 1
    a, b = bits_per_dim(eps_model, images, seed=4), bits_per_dim(v_model, images, seed=4)
    assert a["nll_bpd"] > 0 and all(np.isfinite(list(a.values())))
    for k in a:
        assert b[k] == pytest.approx(a[k], rel=1e-4), k


def test_defaults_presets_and_the_lr_sized_to_the_network():
    from zoo_iddpm.config import IDDPMConfig

    from zoo_core.config import layer
    from zoo_core.data import DataConfig
    from zoo_core.train_config import TrainConfig, resolve_lr

    # a config that names no objective (saved before these options, imported) is Ho et al.'s
    cfg = DDPMConfig(res=16)
    assert (cfg.prediction, cfg.zero_terminal_snr, cfg.min_snr_gamma) == ("eps", False, 0.0)
    # 2e-4 at Ho et al.'s width 128, x 128 / width, capped at 1e-3
    assert [DDPMConfig(res=32, channels=c).suggested_lr() for c in (128, 64, 32, 16)] == [2e-4, 4e-4, 8e-4, 1e-3]
    assert IDDPMConfig(res=32, channels=128).suggested_lr() == 1e-4  # the iDDPM paper's
    classes = {"model": DDPMConfig, "data": DataConfig, "train": TrainConfig}
    cfgs = layer(classes, [("defaults", dict(DDPMConfig.TRAIN_DEFAULTS)), ("flags", {"res": 16, "channels": 32})])
    assert cfgs["train"].lr is None and cfgs["train"].ema_gamma == 6.94
    assert (cfgs["model"].prediction, cfgs["model"].zero_terminal_snr, cfgs["model"].min_snr_gamma) == ("v", True, 5.0)
    assert cfg.variance == "large" and cfgs["model"].variance == "small"  # saved configs: Ho's; new runs: b~_t
    iddpm = layer({**classes, "model": IDDPMConfig}, [("defaults", dict(IDDPMConfig.TRAIN_DEFAULTS))])["model"]
    assert (iddpm.prediction, iddpm.zero_terminal_snr, iddpm.min_snr_gamma) == ("eps", False, 0.0)  # the paper's
    assert resolve_lr(cfgs["train"], cfgs["model"]).lr == pytest.approx(8e-4)
    flagged = layer(classes, [("defaults", dict(DDPMConfig.TRAIN_DEFAULTS)), ("flags", {"lr": 3e-4})])
    assert resolve_lr(flagged["train"], flagged["model"]).lr == 3e-4  # an explicit lr wins
    assert resolve_lr(TrainConfig(lr=None), object()).lr == 1e-4  # models without a suggestion
    # the paper recipes keep the paper's objective and EMA
    for name in ("ho2020", "cifar10", "celeba128"):
        cfgs = layer(classes, [("defaults", dict(DDPMConfig.TRAIN_DEFAULTS)), (name, DDPMConfig.PRESETS[name])])
        assert (cfgs["model"].prediction, cfgs["model"].zero_terminal_snr, cfgs["model"].min_snr_gamma,
                cfgs["model"].variance, cfgs["train"].ema_gamma) == ("eps", False, 0.0, "large", None), name


@pytest.mark.parametrize("prediction", ["v", "x0"])
def test_zero_terminal_snr_oracle_samples_the_data(prediction):
    """x0 ~ N(mu, s^2) has the exact posterior mean E[x0 | x_t]; expressed as v or x0 on a zero-terminal-SNR
    schedule, ancestral sampling from pure noise must give back N(mu, s^2)."""
    from types import SimpleNamespace

    from zoo_ddpm.samplers import ancestral

    mu, s = 0.3, 0.2
    d = GaussianDiffusion(make_betas("linear", 250, zero_terminal_snr=True), variance="large", prediction=prediction)

    class Oracle(torch.nn.Module):
        diffusion = d
        config = SimpleNamespace(in_channels=1, res=2, clip_denoised=False, timesteps=250, num_classes=0)

        def __init__(self):
            super().__init__()
            self.anchor = torch.nn.Parameter(torch.zeros(()))

        def denoise(self, x, t, **_):
            ab = torch.as_tensor(d.alphas_cumprod, dtype=torch.float64)[t].view(-1, 1, 1, 1)
            a, sig = ab.sqrt(), (1 - ab).sqrt()
            x0 = mu + s**2 * a * (x.double() - a * mu) / (ab * s**2 + 1 - ab)
            return d.target(x0.float(), ((x.double() - a * x0) / sig).float(), t)

    x = ancestral(Oracle(), 400, generator=torch.Generator().manual_seed(0))  # 1600 values, all 250 steps
    assert float(x.mean()) == pytest.approx(mu, abs=0.01)
    assert float(x.std()) == pytest.approx(s, rel=0.06)  # as the eps oracle in test_ddpm_diffusion
