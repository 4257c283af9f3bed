"""Gaussian diffusion maths against closed forms, and both samplers against an exact oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from zoo_ddpm.diffusion import GaussianDiffusion, cosine_betas, linear_betas, respace, space_timesteps
from zoo_ddpm.samplers import ancestral, ddim


def test_linear_schedule_and_closed_forms():
    betas = linear_betas(1000)
    assert betas[0] == pytest.approx(1e-4) and betas[-1] == pytest.approx(0.02)
    d = GaussianDiffusion(betas)
    assert d.alphas_cumprod[10] == pytest.approx(np.prod(1 - betas[:11]))
    t = 500
    ab, ab_prev = d.alphas_cumprod[t], d.alphas_cumprod[t - 1]
    # posterior variance and mean coefficients (Ho et al. eq. 7)
    assert d.posterior_variance[t] == pytest.approx((1 - ab_prev) / (1 - ab) * betas[t])
    assert d.posterior_mean_coef1[t] == pytest.approx(np.sqrt(ab_prev) * betas[t] / (1 - ab))
    assert d.posterior_mean_coef2[t] == pytest.approx(np.sqrt(1 - betas[t]) * (1 - ab_prev) / (1 - ab))


def test_posterior_is_the_conditional_of_the_joint():
    """mu~ and b~ equal the Gaussian conditional of x_{t-1} given x_t (both from x_0)."""
    d = GaussianDiffusion(linear_betas(100))
    t = 40
    ab_prev, beta = d.alphas_cumprod[t - 1], d.betas[t]
    # x_{t-1} = sqrt(ab_prev) x0 + sqrt(1-ab_prev) e1 ; x_t = sqrt(1-beta) x_{t-1} + sqrt(beta) e2
    cov = np.sqrt(1 - beta) * (1 - ab_prev)
    var_t = (1 - beta) * (1 - ab_prev) + beta
    cond_var = (1 - ab_prev) - cov**2 / var_t
    assert d.posterior_variance[t] == pytest.approx(cond_var)
    x0, xt = torch.tensor([[0.3]]), torch.tensor([[-0.7]])
    mean, _, _ = d.q_posterior(x0, xt, torch.tensor([t]))
    expected = np.sqrt(ab_prev) * 0.3 + cov / var_t * (-0.7 - np.sqrt(d.alphas_cumprod[t]) * 0.3)
    assert float(mean) == pytest.approx(expected, rel=1e-5)


def test_q_sample_statistics():
    d = GaussianDiffusion(linear_betas(1000))
    torch.manual_seed(0)
    x0 = torch.full((200000,), 0.5)
    t = torch.full((200000,), 300)
    xt = d.q_sample(x0, t)
    assert float(xt.mean()) == pytest.approx(0.5 * np.sqrt(d.alphas_cumprod[300]), abs=5e-3)
    assert float(xt.var()) == pytest.approx(1 - d.alphas_cumprod[300], rel=2e-2)


def test_p2_weight_and_eps_x0_round_trip():
    d = GaussianDiffusion(linear_betas(1000))
    t = torch.tensor([0, 500, 999])
    w = d.p2_weight(t, gamma=1.0, k=1.0).flatten()
    assert torch.allclose(w.double(), torch.tensor(1 / (1 + d.snr[[0, 500, 999]])), rtol=1e-5)
    assert torch.equal(d.p2_weight(t, 0.0, 1.0).flatten(), torch.ones(3))
    x0, eps = torch.randn(3, 2), torch.randn(3, 2)
    xt = d.q_sample(x0, t, eps)
    torch.testing.assert_close(d.predict_x0(xt, t, eps), x0, atol=2e-3, rtol=1e-3)
    torch.testing.assert_close(d.predict_eps(xt, t, x0), eps, atol=1e-3, rtol=1e-3)


def test_cosine_and_respacing_keep_alpha_bar():
    c = cosine_betas(1000)
    assert c.max() <= 0.999 and c[0] < 1e-4
    base = GaussianDiffusion(linear_betas(1000))
    keep = space_timesteps(1000, 50)
    assert len(keep) == 50 and keep[0] == 0 and keep[-1] == 999
    sub = respace(base, keep)
    np.testing.assert_allclose(sub.alphas_cumprod, base.alphas_cumprod[keep], rtol=1e-10)
    assert list(sub.timestep_map) == keep
    assert len(space_timesteps(1000, "10,15,20")) == 45
    assert len(space_timesteps(1000, "ddim50")) == 50


class Oracle(torch.nn.Module):
    """The exact eps predictor for data x0 ~ N(mu, s^2): E[eps | x_t] in closed form."""

    zoo_name = "oracle"

    def __init__(self, mu=0.3, s=0.2, T=1000, variance="large"):
        super().__init__()
        self.mu, self.s = mu, s
        self.diffusion = GaussianDiffusion(linear_betas(T), variance=variance)
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.config = type("C", (), {"in_channels": 1, "res": 32, "clip_denoised": False})()

    def denoise(self, x, t):
        ab = torch.as_tensor(self.diffusion.alphas_cumprod, dtype=torch.float64)[t].view(-1, 1, 1, 1)
        eps = (1 - ab).sqrt() * (x.double() - ab.sqrt() * self.mu) / (ab * self.s**2 + 1 - ab)
        return eps.float()


@pytest.mark.parametrize("sampler,kw", [
    (ancestral, {"steps": None}),            # the full 1000-step chain, large variance
    (ancestral, {"steps": 100}),             # respaced
    (ddim, {"steps": 1000, "eta": 0.0}),     # the deterministic ODE over every step
    (ddim, {"steps": 200, "eta": 0.0}),
    (ddim, {"steps": 1000, "eta": 1.0}),     # DDPM-like with the posterior variance
])
def test_samplers_recover_the_data_distribution(sampler, kw):
    """Few-step deterministic DDIM under-disperses Gaussian data (ODE discretisation: 0.175 at 50
    steps, 0.192 at 200, 0.197 at 1000 for s = 0.2), and the posterior variance b~ is the lower bound
    of the true reverse variance (under-dispersed with few steps), so both are checked with many."""
    model = Oracle()
    g = torch.Generator().manual_seed(0)
    x = sampler(model, 8, generator=g, **kw)  # 8 x 32 x 32 = 8192 samples
    assert abs(float(x.mean()) - 0.3) < 0.015
    assert float(x.std()) == pytest.approx(0.2, rel=0.06)


def test_small_variance_ancestral_also_recovers():
    x = ancestral(Oracle(variance="small"), 8, generator=torch.Generator().manual_seed(1))
    assert abs(float(x.mean()) - 0.3) < 0.015 and float(x.std()) == pytest.approx(0.2, rel=0.06)
