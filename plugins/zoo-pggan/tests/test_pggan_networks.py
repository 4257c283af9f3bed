"""Growing networks: at alpha = 0 a grown network computes exactly what the smaller one did."""

import pytest
import torch
from zoo_pggan.layers import downsample, upsample
from zoo_pggan.networks import GrowingDiscriminator, GrowingGenerator

CHANNELS = [16, 16, 8, 8]  # 4, 8, 16, 32


@pytest.fixture(scope="module")
def nets():
    torch.manual_seed(0)
    return GrowingGenerator(8, 3, CHANNELS), GrowingDiscriminator(3, CHANNELS, mbstd_group=2)


@pytest.mark.parametrize("level", [1, 2, 3])
def test_generator_fade_starts_at_the_upsampled_previous_output(nets, level):
    g, _ = nets
    z = torch.randn(4, 8)
    grown = g(z, level, alpha=0.0)
    assert grown.shape == (4, 3, 4 * 2**level, 4 * 2**level)
    torch.testing.assert_close(grown, upsample(g(z, level - 1, alpha=1.0)), atol=1e-6, rtol=0)
    # and at alpha = 1 the new block alone, which differs from the old path
    new = g(z, level, alpha=1.0)
    assert (new - grown).abs().max() > 1e-3


def test_generator_fade_is_linear_in_alpha(nets):
    g, _ = nets
    z = torch.randn(2, 8)
    a0, a1, mid = g(z, 2, 0.0), g(z, 2, 1.0), g(z, 2, 0.25)
    torch.testing.assert_close(mid, 0.75 * a0 + 0.25 * a1, atol=1e-5, rtol=0)


@pytest.mark.parametrize("level", [1, 2, 3])
def test_discriminator_fade_starts_at_the_pooled_previous_critic(nets, level):
    _, d = nets
    x = torch.randn(4, 3, 4 * 2**level, 4 * 2**level)
    grown = d(x, level, alpha=0.0)
    assert grown.shape == (4,)
    torch.testing.assert_close(grown, d(downsample(x), level - 1, alpha=1.0), atol=1e-5, rtol=0)
    assert (d(x, level, alpha=1.0) - grown).abs().max() > 1e-4


def test_unused_blocks_get_no_gradient(nets):
    g, d = nets
    g.zero_grad(set_to_none=True)
    d(g(torch.randn(2, 8), 1, alpha=1.0), 1).sum().backward()
    assert g.to_rgb[0].weight.grad is None  # the old toRGB is not used once the fade is over
    assert g.blocks[1].conv1.weight.grad is None and g.to_rgb[2].weight.grad is None
    assert g.blocks[0].conv1.weight.grad is not None and d.blocks[0].conv1.weight.grad is not None
    assert d.from_rgb[2].weight.grad is None


def test_widths_follow_the_channel_list():
    g = GrowingGenerator(8, 1, [32, 16, 8])
    assert [m.weight.shape[1] for m in g.to_rgb] == [32, 16, 8]
    assert g(torch.randn(1, 8), 2).shape == (1, 1, 16, 16)
    with pytest.raises(ValueError, match="level 3"):
        g(torch.randn(1, 8), 3)
