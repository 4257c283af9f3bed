"""slerp, truncated noise and the health checks."""

import math

import pytest
import torch

from zoo_core.gan.health import GanHealth, diversity
from zoo_core.gan.latent import seed_latent, slerp, truncated_noise


def test_slerp_hits_both_ends_and_keeps_the_norm():
    torch.manual_seed(0)
    a = torch.randn(64)
    b = torch.randn(64)
    b = b / b.norm() * a.norm()  # equal norms
    t = torch.linspace(0, 1, 9).reshape(9, 1)
    path = slerp(a, b, t)
    assert path.shape == (9, 64)
    assert torch.equal(path[0], a) and torch.equal(path[-1], b)
    assert torch.allclose(path.norm(dim=1), a.norm().expand(9), rtol=1e-5)
    # on the great circle: equal angular steps
    cos = torch.nn.functional.cosine_similarity(path[:-1], path[1:], dim=1)
    assert torch.allclose(cos, cos[0].expand(8), atol=1e-5)
    # a straight line would shrink the midpoint; slerp does not
    assert ((a + b) / 2).norm() < 0.8 * path[4].norm()


def test_slerp_norm_moves_linearly_and_handles_parallel_vectors():
    a, b = torch.tensor([2.0, 0.0]), torch.tensor([0.0, 4.0])
    mid = slerp(a, b, 0.5)
    assert mid.norm().item() == pytest.approx(3.0)
    assert mid[0].item() == pytest.approx(mid[1].item(), rel=1e-5)  # half way round: 45 degrees
    same = slerp(a, 2 * a, 0.5)
    assert torch.allclose(same, torch.tensor([3.0, 0.0]))


def test_truncated_noise_resamples_into_the_interval():
    g = torch.Generator().manual_seed(0)
    z = truncated_noise((20000,), 1.0, g)
    assert z.abs().max() <= 1.0
    # a standard normal restricted to [-1, 1] has variance 1 - 2 phi(1) / (2 Phi(1) - 1) ~ 0.2911
    assert z.var().item() == pytest.approx(0.2911, abs=0.01)
    same = truncated_noise((20000,), 1.0, torch.Generator().manual_seed(0))
    assert torch.equal(z, same)
    plain = truncated_noise((40000,), None, torch.Generator().manual_seed(3))
    assert plain.mean().item() == pytest.approx(0.0, abs=0.02) and plain.std().item() == pytest.approx(1.0, abs=0.02)
    assert plain.abs().max() > 3  # not truncated
    assert torch.equal(seed_latent(3, (4,))[0], truncated_noise((4,), None, torch.Generator().manual_seed(3)))
    # the stream does not depend on how it is split into batches
    g = torch.Generator().manual_seed(5)
    parts = torch.cat([truncated_noise((2, 30), 0.7, g), truncated_noise((3, 30), 0.7, g)])
    assert torch.equal(parts, truncated_noise((5, 30), 0.7, torch.Generator().manual_seed(5)))


def test_diversity():
    x = torch.zeros(3, 1, 2, 2)
    assert diversity(x) == 0.0
    y = torch.stack([torch.zeros(1, 2, 2), torch.ones(1, 2, 2)])
    assert diversity(y) == pytest.approx(1.0)  # RMS difference of 1 per pixel
    assert math.isnan(diversity(y[:1]))


def test_health_d_collapse_warns_once_and_rearms():
    h = GanHealth("nonsaturating", window=3)
    assert h.check({"loss_d": 0.01}) == [] and h.check({"loss_d": 0.01}) == []
    msgs = h.check({"loss_d": 0.01})
    assert len(msgs) == 1 and "D loss" in msgs[0] and "--label-smoothing" in msgs[0]
    assert h.check({"loss_d": 0.01}) == []  # said once
    h.check({"loss_d": 1.0})  # cleared
    h.check({"loss_d": 0.01}), h.check({"loss_d": 0.01})
    assert len(h.check({"loss_d": 0.01})) == 1
    wgan = GanHealth("wgan-gp", window=3)
    assert not any(wgan.check({"loss_d": -0.001}) for _ in range(5))  # unbounded loss: not checked


def test_health_g_climb_and_mode_collapse():
    h = GanHealth("nonsaturating", climb_window=4)
    out = [h.check({"loss_g": v, "loss_d": 1.0}) for v in (1.0, 1.5, 2.0, 3.0)]
    assert out[:3] == [[], [], []] and "G loss rose" in out[3][0]
    h2 = GanHealth(window=2, warmup=0, warmup_steps=100)
    logs = {"div_real": 0.6, "div_fake": 0.05}
    assert h2.check(logs, step=10) == [] and h2.check(logs, step=20) == []  # warm-up
    msgs = h2.check(logs, step=200)
    assert len(msgs) == 1 and "mode collapse" in msgs[0]
    assert h2.check({"div_real": 0.6, "div_fake": 0.5}, step=300) == []
    state = h2.state_dict()
    h3 = GanHealth(window=2, warmup=0, warmup_steps=100)
    h3.load_state_dict(state)
    assert h3.seen == h2.seen and list(h3.history) == list(h2.history)
