"""Loss-aware importance sampling of timesteps: warm-up, probabilities, unbiasedness, state."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from zoo_iddpm.timesteps import LossAwareSampler, UniformSampler, make_timestep_sampler

T = 8
LOSSES = np.array([9.0, 4.0, 2.0, 1.0, 0.5, 0.5, 0.25, 0.1])  # L_t falls steeply with t, as L_vlb does


def warmed(history: int = 10) -> LossAwareSampler:
    s = LossAwareSampler(T, history=history)
    for _ in range(history):
        s.update(torch.arange(T), torch.as_tensor(LOSSES))
    return s


def test_uniform_until_every_t_has_its_history():
    s = LossAwareSampler(T)
    for _ in range(9):
        s.update(torch.arange(T), torch.as_tensor(LOSSES))
    s.update(torch.arange(T - 1), torch.as_tensor(LOSSES[:-1]))  # t = T-1 has only 9 losses
    assert not s.warmed_up()
    np.testing.assert_array_equal(s.probs(), np.full(T, 1 / T))
    _, w = s.sample(16, "cpu")
    torch.testing.assert_close(w, torch.ones(16))
    s.update(torch.tensor([T - 1]), torch.tensor([LOSSES[-1]]))
    assert s.warmed_up()


def test_probabilities_follow_root_mean_square_with_uniform_mixing():
    s = warmed()
    s.update(torch.tensor([0, 0]), torch.tensor([3.0, 5.0]))  # history keeps the last 10: 8 x 9, 3, 5
    np.testing.assert_allclose(s.losses[0], [9.0] * 8 + [3.0, 5.0])
    rms = np.sqrt(np.mean(s.losses**2, axis=1))
    expected = rms / rms.sum() * (1 - 0.001) + 0.001 / T
    np.testing.assert_allclose(s.probs(), expected, rtol=1e-12)
    assert s.probs().sum() == pytest.approx(1.0)
    assert s.probs()[0] > 0.45 and s.probs().min() > 0.001 / T * 0.99


def test_importance_weights_keep_the_loss_unbiased():
    s = warmed()
    p = s.probs()
    w = s.weights_of(torch.arange(T)).double().numpy()
    np.testing.assert_allclose(w, 1 / (T * p), rtol=1e-6)
    assert np.sum(p * w * LOSSES) == pytest.approx(LOSSES.mean(), rel=1e-6)  # E_p[w L] = mean L, exactly
    torch.manual_seed(0)
    t, weights = s.sample(200_000, "cpu")
    estimate = (weights.double() * torch.as_tensor(LOSSES)[t]).mean().item()
    assert estimate == pytest.approx(LOSSES.mean(), rel=0.01)  # ... and by Monte Carlo
    counts = np.bincount(t.numpy(), minlength=T) / len(t)
    np.testing.assert_allclose(counts, p, atol=0.005)
    # less variance than uniform sampling, which is the point
    uniform = LOSSES.var()
    importance = np.sum(p * (w * LOSSES) ** 2) - LOSSES.mean() ** 2
    assert importance < uniform / 3


def test_state_round_trips_through_json_exactly():
    s = warmed()
    s.update(torch.tensor([3, 5]), torch.tensor([0.123456789, 7.0]))
    state = json.loads(json.dumps(s.state_dict()))
    r = LossAwareSampler(T)
    r.load_state_dict(state)
    np.testing.assert_array_equal(r.losses, s.losses)
    np.testing.assert_array_equal(r.counts, s.counts)
    torch.manual_seed(1)
    a = s.sample(32, "cpu")
    torch.manual_seed(1)
    b = r.sample(32, "cpu")
    torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="loss-aware"):
        UniformSampler(T).load_state_dict(state)
    with pytest.raises(ValueError, match="does not fit"):
        LossAwareSampler(T + 1).load_state_dict(state)


def test_uniform_sampler_and_names():
    t, w = make_timestep_sampler("uniform", T).sample(64, "cpu")
    assert t.min() >= 0 and t.max() < T and (w == 1).all()
    assert isinstance(make_timestep_sampler("loss-aware", T), LossAwareSampler)
    with pytest.raises(ValueError, match="unknown timestep sampler"):
        make_timestep_sampler("importance", T)


def test_every_sampler_draws_from_its_own_probs():
    """``sample`` follows ``probs()``: a subclass that changes only the probabilities changes the draws."""

    class Skewed(UniformSampler):
        def probs(self):
            p = np.zeros(self.T)
            p[[1, 6]] = [0.75, 0.25]
            return p

    torch.manual_seed(0)
    t, w = Skewed(T).sample(40_000, "cpu")
    assert set(t.tolist()) == {1, 6}
    assert (t == 1).double().mean().item() == pytest.approx(0.75, abs=0.01)
    torch.testing.assert_close(w, torch.where(t == 1, 1 / (T * 0.75), 1 / (T * 0.25)).float())
    t, w = UniformSampler(T).sample(40_000, "cpu")  # and the plain one stays uniform, weight 1
    np.testing.assert_allclose(np.bincount(t.numpy(), minlength=T) / len(t), 1 / T, atol=0.01)
    torch.testing.assert_close(w, torch.ones(len(t)))
