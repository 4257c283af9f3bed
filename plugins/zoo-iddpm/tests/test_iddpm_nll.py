"""NLL in bits/dim: the Gaussian oracle's bound meets the data's entropy; the zoo eval metric."""

from __future__ import annotations

import pytest
import torch
from iddpm_oracle import GaussianOracle
from zoo_ddpm.nll import NLLMetric, bits_per_dim

from zoo_core.errors import ZooError

MU, S = 0.1, 0.3


def data(n: int = 512, seed: int = 0) -> torch.Tensor:
    """x_0 ~ N(MU, S^2) per pixel, quantised to the 256 levels of 8-bit images in [-1, 1]."""
    x = (torch.randn(n, 1, 4, 4, generator=torch.Generator().manual_seed(seed)) * S + MU).clamp(-1, 1)
    return torch.round((x + 1) * 127.5) / 127.5 - 1


def entropy_bits() -> float:
    """The exact entropy of the quantised N(MU, S^2): no model can beat it on average."""
    levels = torch.linspace(-1, 1, 256, dtype=torch.float64)
    z = torch.distributions.Normal(torch.tensor(MU, dtype=torch.float64), torch.tensor(S, dtype=torch.float64))
    p = z.cdf(levels + 1 / 255) - z.cdf(levels - 1 / 255)
    return -(p * torch.log2(p)).sum().item()


def test_exact_model_bound_meets_the_entropy():
    """For the true reverse process the bound is tight, so the full VLB sum ~ H(data) (7.28 bits)."""
    x = data()
    h = entropy_bits()
    assert h == pytest.approx(7.2837, abs=1e-3)
    out = bits_per_dim(GaussianOracle(T=200, mu=MU, s=S), x)
    assert out["nll_bpd"] == pytest.approx(h, abs=0.06)
    assert out["nll_bpd"] == pytest.approx(out["prior_bpd"] + out["kl_bpd"] + out["decoder_bpd"], rel=1e-9)
    assert 0 <= out["prior_bpd"] < 1e-6 and out["kl_bpd"] > 1 and out["decoder_bpd"] > 1
    wrong = bits_per_dim(GaussianOracle(T=200, mu=0.5, s=S), x[:128])["nll_bpd"]
    assert wrong > h + 1  # a model of the wrong data pays for it


def test_stratified_steps_estimate_the_same_sum():
    x = data(256)
    model = GaussianOracle(T=200, mu=MU, s=S)
    full = bits_per_dim(model, x)["nll_bpd"]
    assert bits_per_dim(model, x, steps=200)["nll_bpd"] == full  # K = T is the full sum (and seeded)
    quick = [bits_per_dim(model, x, steps=20, seed=s)["nll_bpd"] for s in range(4)]
    assert sum(quick) / 4 == pytest.approx(full, abs=0.25)


def test_metric_follows_the_evaluator_convention():
    model = GaussianOracle(T=50, mu=MU, s=S)
    metric = NLLMetric(extractor=None, model=model, device=torch.device("cpu"), seed=0, batch_size=100)
    assert (metric.needs, metric.needs_real, metric.needs_fake) == ("model", True, False)
    x = data(96)
    metric.update(x[:64], real=True)
    metric.update(torch.zeros(8, 1, 4, 4), real=False)  # generated images are ignored
    metric.update(x[64:], real=True)
    first = bits_per_dim(model, x[:64], seed=0)["nll_bpd"]
    second = bits_per_dim(model, x[64:], seed=1)["nll_bpd"]
    assert metric.compute()["nll_bpd"] == pytest.approx((64 * first + 32 * second) / 96, rel=1e-12)
    metric.reset()
    with pytest.raises(ZooError, match="no real images"):
        metric.compute()


@pytest.mark.parametrize("kwargs, message", [
    ({"steps": 0}, "nll.steps"), ({"steps": 51}, "nll.steps"), ({"batch_size": 0}, "batch_size"),
    ({"stride": 2}, "unknown option"), ({"model": object()}, "diffusion model"),
])
def test_metric_options_are_checked(kwargs, message):
    kw = {"model": GaussianOracle(T=50), **kwargs}
    with pytest.raises(ZooError, match=message):
        NLLMetric(**kw)


def test_evaluator_runs_nll_on_a_class_conditional_model():
    from zoo_iddpm.config import IDDPMConfig
    from zoo_iddpm.model import IDDPM

    from zoo_core.metrics import evaluate

    model = IDDPM(IDDPMConfig(res=8, channels=8, num_res_blocks=1, timesteps=10, class_cond=True, num_classes=3))
    res = evaluate(model.eval(), "builtin:shapes", ["nll"], n=1, n_real=8, batch_size=8,
                   metric_options={"nll": {"steps": 4}}, device="cpu")
    m = res["metrics"]
    assert res["n_real"] == 8 and res["n_fake"] == 0
    assert m["nll_bpd"] == pytest.approx(m["prior_bpd"] + m["kl_bpd"] + m["decoder_bpd"])
    assert m["nll_bpd"] > 0
    with pytest.raises(ZooError, match="needs the images' labels"):
        bits_per_dim(model, torch.zeros(2, 3, 8, 8))
    with pytest.raises(ZooError, match="labels must lie in 0..2"):
        bits_per_dim(model, torch.zeros(2, 3, 8, 8), labels=[-1, -1])
