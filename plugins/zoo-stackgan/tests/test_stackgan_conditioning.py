"""Conditioning Augmentation: the KL term against its closed form, and the statistics of c."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Normal
from torch.distributions import kl_divergence as torch_kl
from zoo_stackgan.conditioning import ConditioningAugmentation, TextStandardizer, kl_divergence


def test_kl_matches_the_closed_form_and_torch():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(7, 5, generator=g), torch.randn(7, 5, generator=g)
    expected = torch_kl(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).mean()
    assert kl_divergence(mu, logvar).item() == pytest.approx(expected.item(), rel=1e-5)
    # hand-checked points: N(0, 1) is free; N(1, 1) costs mu^2 / 2; N(0, e) costs (e - 1 - 1) / 2
    assert kl_divergence(torch.zeros(3, 4), torch.zeros(3, 4)).item() == pytest.approx(0.0, abs=1e-7)
    assert kl_divergence(torch.ones(3, 4), torch.zeros(3, 4)).item() == pytest.approx(0.5)
    assert kl_divergence(torch.zeros(2, 2), torch.ones(2, 2)).item() == pytest.approx(0.5 * (math.e - 2))


def _ca_with(mu: float, logvar: float, text_dim: int = 3, c_dim: int = 4) -> ConditioningAugmentation:
    ca = ConditioningAugmentation(text_dim, c_dim)
    with torch.no_grad():
        ca.fc.weight.zero_()
        ca.fc.bias[:c_dim] = mu
        ca.fc.bias[c_dim:] = logvar
    return ca


def test_reparameterisation_has_the_right_mean_and_std():
    torch.manual_seed(0)
    ca = _ca_with(mu=1.5, logvar=math.log(0.25))  # sigma = 0.5
    c, mu, logvar = ca(torch.randn(40000, 3))
    assert torch.allclose(mu, torch.full_like(mu, 1.5))
    assert c.mean().item() == pytest.approx(1.5, abs=0.01)
    assert c.std().item() == pytest.approx(0.5, abs=0.01)
    assert kl_divergence(mu, logvar).item() == pytest.approx(0.5 * (1.5**2 + 0.25 - 1 - math.log(0.25)), rel=1e-5)


def test_given_noise_makes_the_draw_exact_and_gradients_reach_mu_and_sigma():
    ca = _ca_with(mu=0.3, logvar=0.0)
    eps = torch.tensor([[1.0, -2.0, 0.0, 0.5]])
    c, _, _ = ca(torch.zeros(1, 3), eps)
    assert torch.allclose(c, 0.3 + eps)
    c.sum().backward()
    assert ca.fc.bias.grad[:4].abs().sum() > 0 and ca.fc.bias.grad[4:].abs().sum() > 0


def test_text_standardizer_centres_and_scales_to_unit_average_variance():
    g = torch.Generator().manual_seed(2)
    phi = torch.randn(500, 6, generator=g) * torch.tensor([0.01, 0.02, 0.05, 0.1, 0.2, 0.3]) + 3.0
    norm = TextStandardizer(6)
    norm.fit(phi)
    out = norm(phi)
    assert torch.allclose(out.mean(0), torch.zeros(6), atol=1e-4)
    assert out.var(0, unbiased=False).mean().item() == pytest.approx(1.0, rel=1e-4)
    assert out[:, 5].std() > out[:, 0].std() * 10  # one scale for all dimensions: rare features stay small
