"""The VLB terms against closed forms, and the hybrid loss's stop-gradient (any diffusion model)."""

from __future__ import annotations

import math

import pytest
import torch
from zoo_ddpm.diffusion import GaussianDiffusion, cosine_betas
from zoo_ddpm.config import DDPMConfig
from zoo_ddpm.likelihood import discretized_gaussian_log_likelihood, normal_kl
from zoo_ddpm.model import DDPM
from zoo_ddpm.trainer import DDPMTrainer

LEVELS = torch.linspace(-1, 1, 256, dtype=torch.float64)  # the 256 values of 8-bit data in [-1, 1]


def test_normal_kl_closed_forms():
    m, lv = torch.randn(100, dtype=torch.float64), torch.randn(100, dtype=torch.float64)
    assert normal_kl(m, lv, m, lv).abs().max() < 1e-12
    # KL(N(0, 1) || N(1, e^2)) = log(e) + (1 + 1) / (2 e^2) - 1/2 = 1/2 + e^-2
    zero = torch.zeros(1, dtype=torch.float64)
    assert normal_kl(zero, zero, zero + 1, zero + 2).item() == pytest.approx(0.5 + math.exp(-2), rel=1e-12)
    m2, lv2 = torch.randn(100, dtype=torch.float64), torch.randn(100, dtype=torch.float64)
    ref = torch.distributions.kl_divergence(torch.distributions.Normal(m, (0.5 * lv).exp()),
                                            torch.distributions.Normal(m2, (0.5 * lv2).exp()))
    torch.testing.assert_close(normal_kl(m, lv, m2, lv2), ref)


@pytest.mark.parametrize("mean, scale", [(0.0, 0.5), (0.3, 0.01), (-0.99, 0.002), (0.7, 3.0), (1.6, 0.2),
                                         (-5.0, 0.1)])
def test_discretized_likelihood_sums_to_one_over_the_bins(mean, scale):
    ll = discretized_gaussian_log_likelihood(LEVELS, torch.full_like(LEVELS, mean),
                                             torch.full_like(LEVELS, math.log(scale)))
    assert torch.isfinite(ll).all() and (ll <= 0).all()
    assert ll.exp().sum().item() == pytest.approx(1.0, abs=1e-6)


def test_discretized_likelihood_known_values():
    x = torch.tensor([0.0, -1.0, 1.0], dtype=torch.float64)
    ll = discretized_gaussian_log_likelihood(x, torch.zeros(3, dtype=torch.float64),
                                             torch.full((3,), math.log(0.5), dtype=torch.float64))
    z = torch.distributions.Normal(0.0, 0.5)
    b = 1 / 255
    expected = [z.cdf(torch.tensor(b)) - z.cdf(torch.tensor(-b)), z.cdf(torch.tensor(-1 + b)),
                1 - z.cdf(torch.tensor(1 - b))]
    torch.testing.assert_close(ll.exp(), torch.tensor(expected, dtype=torch.float64), rtol=1e-5, atol=0)
    # a sharp Gaussian on a bin centre puts all its mass there
    sharp = discretized_gaussian_log_likelihood(x, x, torch.full((3,), math.log(1e-4), dtype=torch.float64))
    assert sharp.abs().max() < 1e-9


def _exact_p(d: GaussianDiffusion, x0, xt, t):
    mean, _, logvar = d.q_posterior(x0, xt, t)
    return {"mean": mean, "log_variance": logvar}


def test_vlb_terms_vanish_for_the_true_posterior_and_match_the_decoder_at_zero():
    d = GaussianDiffusion(cosine_betas(50), variance="learned")
    x0 = torch.randint(0, 256, (4, 3, 4, 4)).float() / 127.5 - 1
    t = torch.tensor([0, 1, 17, 49])
    xt = d.q_sample(x0, t)
    terms = d.vlb_terms(_exact_p(d, x0, xt, t), x0, xt, t)
    assert terms[1:].abs().max() < 1e-5  # KL of identical Gaussians
    p = _exact_p(d, x0, xt, t)
    decoder = -discretized_gaussian_log_likelihood(x0[:1], p["mean"][:1], 0.5 * p["log_variance"][:1])
    assert terms[0].item() == pytest.approx(decoder.mean().item() / math.log(2), rel=1e-5)
    # a model that is off by delta in the mean pays delta^2 / (2 sigma^2) nats per pixel
    p["mean"] = p["mean"] + 0.01
    off = d.vlb_terms(p, x0, xt, t)[2:]
    expected = 0.01**2 / (2 * torch.as_tensor(d.posterior_variance[[17, 49]])) / math.log(2)
    torch.testing.assert_close(off.double(), expected, rtol=1e-3, atol=0)


def test_prior_term_closed_form():
    d = GaussianDiffusion(cosine_betas(100))
    x0 = torch.full((2, 1, 2, 2), 0.5)
    ab = d.alphas_cumprod[-1]
    # KL(N(sqrt(ab) x, 1 - ab) || N(0, 1)) = (-1 - log(1 - ab) + 1 - ab + ab x^2) / 2
    nats = 0.5 * (-math.log(1 - ab) - ab + ab * 0.25)
    torch.testing.assert_close(d.prior_bpd(x0).double(), torch.full((2,), nats / math.log(2), dtype=torch.float64),
                               rtol=1e-3, atol=1e-9)
    assert d.prior_bpd(x0).max() < 1e-5  # cosine ends at pure noise


def _trainer(loss: str, variance: str = "learned") -> DDPMTrainer:
    from zoo_core.data import DataInfo
    from zoo_core.train_config import TrainConfig

    cfg = DDPMConfig(res=8, channels=8, num_res_blocks=1, timesteps=20, loss=loss, variance=variance)
    return DDPMTrainer(DDPM(cfg), cfg, DataInfo(size=1), TrainConfig(), torch.device("cpu"))


@pytest.mark.parametrize("loss", ["hybrid", "vlb"])
def test_hybrid_vlb_term_trains_only_the_variance(loss):
    tr = _trainer(loss)
    out = torch.nn.Parameter(torch.randn(4, 6, 8, 8))  # stands in for the network: eps (3) and v (3)
    tr.model.denoise = lambda x, t, **_: out
    x0 = torch.rand(4, 3, 8, 8) * 2 - 1
    parts = tr.per_example_losses(x0, torch.tensor([0, 3, 9, 19]), torch.randn_like(x0), {})
    parts["vlb"].sum().backward()
    eps_grad, v_grad = out.grad[:, :3].abs().sum().item(), out.grad[:, 3:].abs().sum().item()
    assert v_grad > 0
    assert (eps_grad == 0) if loss == "hybrid" else (eps_grad > 0)
    if loss == "hybrid":
        torch.testing.assert_close(parts["loss"], parts["mse"] + 0.001 * parts["vlb"])


def test_vlb_loss_is_T_times_the_bound_term_at_t():
    """loss "vlb" at a uniform t is T * L_t: an unbiased estimate of the sum over all terms."""
    tr = _trainer("vlb")
    d = tr.model.diffusion
    fake = lambda x, t, **_: torch.cat([0.9 * x + 0.01 * t.view(-1, 1, 1, 1), torch.tanh(x)], 1)  # noqa: E731
    tr.model.denoise = fake
    x0 = torch.rand(2, 3, 8, 8) * 2 - 1
    noise = torch.randn_like(x0)
    for i in range(d.T):
        t = torch.full((2,), i)
        loss = tr.per_example_losses(x0, t, noise, {})["vlb"]
        xt = d.q_sample(x0, t, noise)
        direct = d.vlb_terms(d.p_mean_variance(fake(xt, t), xt, t, clip=False), x0, xt, t)
        torch.testing.assert_close(loss, direct * d.T)
        assert torch.isfinite(loss).all() and (loss >= 0).all()
