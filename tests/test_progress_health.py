"""Health events: StackGAN's checks wait like every GAN's and never advise a flag it refuses."""

from __future__ import annotations

import pytest

from zoo_core.gan.health import GanHealth

RISING = [{"loss_g": v, "loss_d": 1.0} for v in (1.0, 1.5, 2.0, 3.0, 4.0, 5.0)]


def test_g_climb_waits_for_warmup_steps_and_advice_follows_replay_support():
    h = GanHealth("nonsaturating", climb_window=4, warmup_steps=500)
    assert all(h.check(logs, step=50 * (i + 1)) == [] for i, logs in enumerate(RISING))  # steps 50..300
    h = GanHealth("nonsaturating", climb_window=4, warmup_steps=500)
    out = [h.check(logs, step=500 + 50 * i) for i, logs in enumerate(RISING[:4])]
    assert out[3] and "G loss rose" in out[3][0] and "--replay-size" in out[3][0]
    h = GanHealth("nonsaturating", climb_window=4, warmup_steps=500, replay=False)
    out = [h.check(logs, step=500 + 50 * i) for i, logs in enumerate(RISING[:4])]
    assert out[3] and "G loss rose" in out[3][0] and "--replay-size" not in out[3][0]
    h = GanHealth(window=2, warmup=0, warmup_steps=0, replay=False)
    msgs = [h.check({"div_real": 0.6, "div_fake": 0.01}, step=s) for s in (1, 2)]
    assert "mode collapse" in msgs[1][0] and "--replay-size" not in msgs[1][0]


def test_stackgan_trainer_passes_its_step_and_drops_replay_advice():
    pytest.importorskip("zoo_stackgan")
    from zoo_stackgan.config import StackGANConfig
    from zoo_stackgan.model import StackGAN
    from zoo_stackgan.trainer import StackGANTrainer

    from zoo_core.data import DataInfo
    from zoo_core.train_config import TrainConfig

    captions = ["a red circle", "a blue square", "a green triangle", "a red square"]
    config = StackGANConfig(res=8, g_channels=4, d_channels=4, c_dim=4, z_dim=4, compress_dim=4)
    info = DataInfo(size=4, has_captions=True, captions=[[c] for c in captions])
    config = StackGAN.adapt_config(config, info)
    trainer = StackGANTrainer(StackGAN(config), config, info, TrainConfig(steps=2000, log_every=50), "cpu")
    early = []
    for i, logs in enumerate(RISING):  # logs at steps 50..300: before the documented 500-step warm-up
        trainer.phases(50 * (i + 1))
        early += trainer.health(logs)
    assert early == []
    late = []
    for i, logs in enumerate(RISING):
        trainer.phases(600 + 50 * i)
        late += trainer.health(logs)
    assert late and "G loss rose" in late[0] and "--replay-size" not in late[0]
    assert late[0].kind == "g_climb" and late[0].message.startswith("Stage 1: G loss rose")  # kind kept
    d_zero = [trainer.health({"loss_d": 0.001, "loss_g": 1.0}) for _ in range(3)][-1]
    assert "D loss" in d_zero[0] and "--replay-size" not in d_zero[0]
