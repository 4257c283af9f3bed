"""Soft and noisy labels, instance noise and the replay buffer."""

import pytest
import torch

from zoo_core.gan.options import GANOptions
from zoo_core.gan.tricks import InstanceNoise, ReplayBuffer, flip_labels, real_fake_targets


def test_targets_plain_one_sided_and_random():
    real, fake = real_fake_targets(6, None)
    assert real.tolist() == [1.0] * 6 and fake.tolist() == [0.0] * 6
    real, fake = real_fake_targets(6, "0.9")
    assert torch.allclose(real, torch.full((6,), 0.9)) and fake.tolist() == [0.0] * 6
    g = torch.Generator().manual_seed(0)
    real, fake = real_fake_targets(4000, "random", generator=g)
    assert 0.7 <= real.min() and real.max() <= 1.2 and 0.0 <= fake.min() and fake.max() <= 0.3
    assert real.mean().item() == pytest.approx(0.95, abs=0.01)
    assert fake.mean().item() == pytest.approx(0.15, abs=0.01)
    assert real.std() > 0.1  # spread over the range, not constant
    with pytest.raises(ValueError):
        real_fake_targets(2, "1.5")


def test_flip_labels_flips_the_asked_fraction():
    g = torch.Generator().manual_seed(1)
    t = torch.full((20000,), 0.9)
    flipped = flip_labels(t, 0.25, generator=g)
    changed = ~torch.isclose(flipped, t)
    assert changed.float().mean().item() == pytest.approx(0.25, abs=0.015)
    assert torch.allclose(flipped[changed], torch.full_like(flipped[changed], 0.1))
    assert flip_labels(t, 0.0) is t


def test_instance_noise_decays_linearly_to_zero():
    noise = InstanceNoise(0.2, 100)
    assert [noise.std(s) for s in (0, 50, 100, 500)] == pytest.approx([0.2, 0.1, 0.0, 0.0])
    x = torch.zeros(2000, 4)
    torch.manual_seed(0)
    assert noise(x, 0).std().item() == pytest.approx(0.2, rel=0.05)
    assert torch.equal(noise(x, 100), x)
    assert InstanceNoise(0.3, 0).std(10**6) == 0.3  # no decay


def test_replay_buffer_ring_and_mix():
    buf = ReplayBuffer(capacity=4, mix_fraction=0.5)
    fresh = torch.full((4, 1, 1, 1), -1.0)
    assert torch.equal(buf.mix(fresh), fresh)  # empty: nothing to mix in
    buf.push(torch.arange(3.0).reshape(3, 1, 1, 1))
    assert len(buf) == 3 and buf.images[:3].flatten().tolist() == [0.0, 1.0, 2.0]
    buf.push(torch.arange(3.0, 6.0).reshape(3, 1, 1, 1))  # overwrites the two oldest
    assert len(buf) == 4 and sorted(buf.images.flatten().tolist()) == [2.0, 3.0, 4.0, 5.0]
    mixed = buf.mix(fresh, generator=torch.Generator().manual_seed(0))
    values = mixed.flatten().tolist()
    assert values.count(-1.0) == 2  # half of the batch kept
    assert all(v in (2.0, 3.0, 4.0, 5.0) for v in values if v != -1.0)
    assert torch.equal(fresh, torch.full((4, 1, 1, 1), -1.0))  # the input is not modified
    state = buf.state_dict()
    assert state["pushed"] == 6 and isinstance(state, dict)
    other = ReplayBuffer(4, 0.5)
    other.load_state_dict(state)
    assert other.pushed == 6


def test_gan_options_validate_and_resolve():
    assert GANOptions().critic_steps == 1 and GANOptions(loss="wgan-gp").critic_steps == 5
    assert GANOptions(label_smoothing="random").smoothing == "random"
    assert GANOptions(label_smoothing="0.9").smoothing == pytest.approx(0.9)
    with pytest.raises(ValueError, match="label-smoothing"):
        GANOptions(label_smoothing="lots")
    with pytest.raises(ValueError, match="need a label loss"):
        GANOptions(loss="hinge", label_flip=0.1)
