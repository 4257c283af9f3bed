"""DCGAN networks and generator: shapes, ranges, init, config checks, seeded sampling, interpolation."""

import dataclasses

import pytest
import torch
from zoo_dcgan.config import DCGANConfig
from zoo_dcgan.model import DCGAN
from zoo_dcgan.networks import Discriminator, level_widths

from zoo_core.config import build
from zoo_core.data import DataInfo
from zoo_core.errors import ZooError


def tiny(**kw) -> DCGANConfig:
    return DCGANConfig(**{"res": 16, "channels": 4, "z_dim": 8, **kw})


def loud(model: DCGAN, gain: float = 40.0) -> DCGAN:
    """Scale the N(0, 0.02) weights up so an untrained G in eval mode makes O(1) images, not ~1e-5."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                m.weight.mul_(gain)
    return model.eval()


@pytest.mark.parametrize("res", [16, 32, 64, 128, 256])
@pytest.mark.parametrize("upsample", ["convtranspose", "pixelshuffle"])
def test_generator_shape_and_range_at_every_resolution(res, upsample):
    torch.manual_seed(0)
    model = loud(DCGAN(tiny(res=res, channels=2, upsample=upsample, in_channels=1 if res == 256 else 3)), 1000.0)
    out = model(torch.randn(2, 8))  # huge weights drive tanh into saturation
    assert out.shape == (2, 1 if res == 256 else 3, res, res)
    assert out.min() >= -1 and out.max() <= 1 and out.abs().max() > 0.99


@pytest.mark.parametrize("res", [16, 32, 64, 128, 256])
@pytest.mark.parametrize("norm", ["batch", "instance", "spectral", "none"])
def test_discriminator_one_logit_per_image(res, norm):
    d = Discriminator(res, 2, 3, norm, num_classes=3 if norm == "none" else 0)
    out = d(torch.randn(2, 3, res, res))
    score, logits = out if isinstance(out, tuple) else (out, None)
    assert score.shape == (2,)
    assert logits is None or logits.shape == (2, 3)
    first = d.features[0]
    assert isinstance(first, torch.nn.Conv2d) and not isinstance(d.features[1], torch.nn.BatchNorm2d)


def test_widths_double_per_level_up_to_eight_times():
    assert level_widths(64, 64) == [512, 256, 128, 64]  # the paper's 64x64 G (ngf 64)
    assert level_widths(256, 8) == [64, 64, 64, 32, 16, 8]


def test_paper_initialisation():
    torch.manual_seed(0)
    model = DCGAN(DCGANConfig(res=32, channels=32))
    w = model.net.net[0].weight
    assert w.std().item() == pytest.approx(0.02, rel=0.05) and abs(w.mean().item()) < 1e-3
    bn = model.net.net[1]
    assert bn.weight.mean().item() == pytest.approx(1.0, abs=0.01) and bn.bias.abs().max() == 0


def test_config_checks_are_one_line_errors():
    with pytest.raises(ZooError, match="--res must be one of"):
        build(DCGANConfig, {"res": 48})
    with pytest.raises(ZooError, match="batch does not go with"):
        build(DCGANConfig, {"loss": "wgan-gp", "d_norm": "batch"})
    assert build(DCGANConfig, {"loss": "wgan-gp"}).d_norm == "instance"
    assert build(DCGANConfig, {}).d_norm == "batch"
    with pytest.raises(ZooError, match="need a label loss"):
        build(DCGANConfig, {"loss": "hinge", "label_smoothing": "0.9"})


def test_generate_is_seeded_and_batch_independent():
    torch.manual_seed(0)
    model = loud(DCGAN(tiny()))
    a = model.generate(5, seed=3)
    assert a.shape == (5, 3, 16, 16) and a.abs().max() <= 1 and a.std() > 0.05
    assert torch.allclose(a, model.generate(5, seed=3, batch_size=2), atol=1e-5)
    assert not torch.equal(a, model.generate(5, seed=4))
    t = model.generate(5, seed=3, truncation=0.5)
    assert not torch.equal(a, t)
    with pytest.raises(ZooError, match="not class-conditional"):
        model.generate(2, label=1)
    with pytest.raises(ZooError, match="--steps does not apply"):
        model.generate(2, steps=10)
    with pytest.raises(ZooError, match="does not take"):
        model.generate(2, prompt="a cat")


def test_interpolate_ends_on_the_seeds_images():
    torch.manual_seed(0)
    model = loud(DCGAN(tiny()))
    frames = model.interpolate(3, 7, 6)
    assert frames.shape == (6, 3, 16, 16)
    assert torch.allclose(frames[0], model.generate(1, seed=3)[0], atol=1e-6)
    assert torch.allclose(frames[-1], model.generate(1, seed=7)[0], atol=1e-6)
    assert (frames[2] - frames[3]).abs().max() > 1e-3


def test_class_conditioning_reads_labels_and_fixes_the_class():
    cfg = tiny(class_cond=True)
    with pytest.raises(ZooError, match="needs labelled data"):
        DCGAN.adapt_config(cfg, DataInfo(size=10, num_classes=0))
    cfg = DCGAN.adapt_config(cfg, DataInfo(size=10, num_classes=3, class_names=["a", "b", "c"]))
    assert cfg.num_classes == 3
    torch.manual_seed(0)
    model = loud(DCGAN(cfg))
    assert model.net.net[0].in_channels == 8 + 3
    a = model.generate(4, seed=1, label=0)
    b = model.generate(4, seed=1, label=2)
    assert a.shape == b.shape == (4, 3, 16, 16) and (a - b).abs().max() > 1e-3
    with pytest.raises(ZooError, match=r"no value 3; valid values: one of a, b, c \(or an index 0\.\.2\)"):
        model.generate(1, label=3)
    # interpolation keeps seed A's class: its first frame is generate(1, seed=A)
    assert torch.allclose(model.interpolate(5, 9, 3)[0], model.generate(1, seed=5)[0], atol=1e-6)
    with pytest.raises(ZooError, match="needs the number of classes"):
        DCGAN(dataclasses.replace(cfg, num_classes=0))
