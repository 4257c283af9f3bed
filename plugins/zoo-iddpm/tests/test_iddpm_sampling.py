"""Respaced ancestral sampling with learned variances, and DDIM, against the Gaussian oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from iddpm_oracle import GaussianOracle, gaussian_stats
from zoo_ddpm.samplers import ancestral, ddim

T = 200


def expected_std(m: GaussianOracle) -> float:
    """The ancestral sampler returns E[x_0 | x_1] at the end: its std is sqrt(s^2 - Var[x_0 | x_1])."""
    _, var_x0 = gaussian_stats(m.diffusion.alphas_cumprod[:1], m.s)
    return float(np.sqrt(m.s**2 - var_x0[0]))


@pytest.mark.parametrize("steps", [10, 50, T])
def test_respaced_ancestral_with_learned_variance_is_exact(steps):
    m = GaussianOracle(T=T, steps=steps)
    x = ancestral(m, 512, generator=torch.Generator().manual_seed(0), steps=steps)
    assert x.shape == (512, 1, 4, 4)
    assert abs(x.mean().item() - m.mu) < 0.02
    assert abs(x.std().item() - expected_std(m)) < 0.015


def test_respacing_needs_the_right_variance():
    """At 10 steps the extremes of the learned range are visibly wrong: the test above has teeth."""
    m = GaussianOracle(T=T, steps=10)
    m.v = -np.ones_like(m.v)  # sigma^2 = beta~ (too small for wide steps)
    small = ancestral(m, 512, generator=torch.Generator().manual_seed(0), steps=10).std().item()
    m.v = np.ones_like(m.v)  # sigma^2 = beta (too large)
    large = ancestral(m, 512, generator=torch.Generator().manual_seed(0), steps=10).std().item()
    assert small < expected_std(m) - 0.05 and large > expected_std(m) + 0.03


def test_full_process_variance_reused_at_50_steps():
    """The paper's use: v learned for all T steps, reused unchanged with 50 respaced steps."""
    m = GaussianOracle(T=1000, steps=50)
    m.v = GaussianOracle(T=1000).v[m.proc.timestep_map]
    x = ancestral(m, 512, generator=torch.Generator().manual_seed(1), steps=50)
    assert abs(x.mean().item() - m.mu) < 0.02
    assert abs(x.std().item() - expected_std(m)) < 0.015


def test_spacing_string_keeps_the_sections():
    m = GaussianOracle(T=T, steps="5,10,20")
    assert len(m.proc.timestep_map) == 35 and m.proc.timestep_map[0] == 0
    x = ancestral(m, 512, generator=torch.Generator().manual_seed(2), steps="5,10,20")
    assert abs(x.mean().item() - m.mu) < 0.02
    assert abs(x.std().item() - expected_std(m)) < 0.015


@pytest.mark.parametrize("steps", [10, 50, T])
def test_ddim_on_a_learned_variance_model_matches_its_closed_form(steps):
    """DDIM (eta 0) maps x_T affinely; for Gaussian data each step scales the standardised x_t by
    (sqrt(ab ab') s^2 + sqrt((1 - ab)(1 - ab'))) / sqrt(D D') with D = ab s^2 + 1 - ab."""
    m = GaussianOracle(T=T, steps=steps)
    xT = torch.randn(64, 1, 4, 4, generator=torch.Generator().manual_seed(3))
    out = ddim(m, 64, generator=torch.Generator(), steps=steps, x_T=xT)
    ab = m.proc.alphas_cumprod
    abp = m.proc.alphas_cumprod_prev
    d, dp = ab * m.s**2 + 1 - ab, abp * m.s**2 + 1 - abp
    gain = np.prod((np.sqrt(ab * abp) * m.s**2 + np.sqrt((1 - ab) * (1 - abp))) / np.sqrt(d * dp))
    u = (xT.double() - np.sqrt(ab[-1]) * m.mu) / np.sqrt(d[-1])
    expected = m.mu + m.s * gain * u
    torch.testing.assert_close(out.double(), expected, atol=2e-4, rtol=1e-4)
    # coarse deterministic steps shrink the spread (paper sec. 4: prefer ancestral with learned sigmas)
    assert gain > {10: 0.75, 50: 0.95, T: 0.98}[steps]
