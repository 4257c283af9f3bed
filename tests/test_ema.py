"""The EMA's two profiles against their closed forms."""

from __future__ import annotations

import pytest
import torch

from zoo_core.ema import EMA


def _run(ema: EMA, values: list[float]) -> float:
    live = torch.nn.Linear(1, 1, bias=False)
    for v in values:
        live.weight.data.fill_(v)
        ema.update(live)
    return float(ema.model.weight)


@pytest.mark.parametrize("gamma", [0.0, 1.0, 6.94])
def test_power_ema_weights_are_karras_closed_form(gamma):
    """Update tau of n carries (tau^(g+1) - (tau-1)^(g+1)) / n^(g+1): impulse responses prove each weight."""
    n = 40
    for tau in (1, 7, 40):
        impulse = [1.0 if i == tau else 0.0 for i in range(1, n + 1)]
        got = _run(EMA(torch.nn.Linear(1, 1, bias=False), decay=1.0, gamma=gamma), impulse)
        e = gamma + 1
        assert got == pytest.approx((tau**e - (tau - 1) ** e) / n**e, rel=1e-4, abs=1e-7)
    # gamma = 0 is the plain running mean: nothing of the initialisation survives
    mean = _run(EMA(torch.nn.Linear(1, 1, bias=False), decay=1.0, gamma=0.0), [float(i) for i in range(1, 11)])
    assert mean == pytest.approx(5.5, rel=1e-6)


def test_power_ema_is_capped_by_decay_and_classic_keeps_its_warmup():
    ema = EMA(torch.nn.Linear(1, 1), decay=0.999, gamma=6.94)
    assert ema.current_decay() == 0.0  # the first update copies the weights
    ema.updates = 99
    assert ema.current_decay() == pytest.approx((1 - 1 / 100) ** 7.94)
    ema.updates = 10**6
    assert ema.current_decay() == 0.999
    classic = EMA(torch.nn.Linear(1, 1), decay=0.9999)
    classic.updates = 90
    assert classic.current_decay() == pytest.approx(91 / 100)
    assert EMA(torch.nn.Linear(1, 1), decay=0.5, warmup=False).current_decay() == 0.5
    with pytest.raises(ValueError, match="gamma"):
        EMA(torch.nn.Linear(1, 1), gamma=-1.0)
