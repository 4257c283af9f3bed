"""PGGAN with the engine: growth while training, real-image blending, exact resume mid-fade, saving."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file
from zoo_pggan.config import PGGANConfig
from zoo_pggan.layers import downsample, upsample
from zoo_pggan.model import PGGAN
from zoo_pggan.schedule import GrowthState
from zoo_pggan.trainer import PGGANTrainer, prepare_reals

from zoo_core import training
from zoo_core.data import DataInfo
from zoo_core.errors import ZooError
from zoo_core.train_config import TrainConfig

# res 8: 4x4 stable for 8 images (2 steps of 4), 8x8 fade for 8 images (alpha 0, 0.5), then 8x8 stable
TINY = dict(res=8, z_dim=8, channel_base=32, max_channels=8, min_channels=4, fade_images=8, stable_images=8,
            batch_size=4, ema_decay=0.9, progress=False, device="cpu", log_every=1, sample_every=100,
            checkpoint_every=1, keep_checkpoints=10, sample_n=4)


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("imgs")
    rng = np.random.default_rng(0)
    for i in range(16):
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(root / f"{i:02d}.png")
    return root


def engine(out, data, **values):
    return training.engine("pggan", **{"data": str(data), "out": str(out), **TINY, **values})


def records(run):
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if '"event"' not in x]


def test_reals_are_pooled_and_blended_like_the_networks():
    x = torch.randn(2, 3, 16, 16)
    stable = GrowthState(level=1, res=8, phase="stable", alpha=1.0, images=0, phase_start=0)
    torch.testing.assert_close(prepare_reals(x, stable, fading=False), downsample(x, 2))
    start = GrowthState(level=1, res=8, phase="fade", alpha=0.0, images=0, phase_start=0)
    torch.testing.assert_close(prepare_reals(x, start, fading=True), upsample(downsample(x, 4)))
    mid = GrowthState(level=1, res=8, phase="fade", alpha=0.25, images=0, phase_start=0)
    torch.testing.assert_close(prepare_reals(x, mid, fading=True),
                               0.75 * upsample(downsample(x, 4)) + 0.25 * downsample(x, 2))


def test_per_resolution_batch_sizes_subselect_the_loader_batch():
    cfg = PGGANConfig(res=8, z_dim=8, channel_base=32, max_channels=8, min_channels=4, batch_sizes=(8, 2),
                      fade_images=0, stable_images=16)
    trainer = PGGANTrainer(PGGAN(cfg), cfg, DataInfo(size=16), TrainConfig(batch_size=8), "cpu")
    batch = {"image": torch.rand(8, 3, 8, 8) * 2 - 1, "label": torch.zeros(8, dtype=torch.long)}
    seen = []
    for step in range(4):
        for phase in trainer.phases(step):
            if phase.optimizer == "d":
                _, logs = phase.loss(batch)
                seen.append((logs["res"], logs["kimg"] * 1000))
    # 4x4 at 8 images per step for 16 images, then 8x8 at 2 images per step
    assert seen == [(4.0, 0), (4.0, 8), (8.0, 16), (8.0, 18)]
    assert trainer._subset(batch)["image"].shape[0] == 2 and trainer.images == 20
    with pytest.raises(ZooError, match="batch-sizes"):
        PGGANTrainer(PGGAN(cfg), cfg, DataInfo(size=16), TrainConfig(batch_size=4), "cpu")


def test_training_grows_and_resume_mid_fade_is_exact(image_dir, tmp_path):
    full = engine(tmp_path / "full", image_dir, steps=6).run_training()
    recs = records(full)
    assert [r["res"] for r in recs] == [4, 4, 8, 8, 8, 8]
    assert [r["alpha"] for r in recs] == [1, 1, 0, 0.5, 1, 1]
    assert all(np.isfinite(r["loss_d"]) and "gp" in r and "drift" in r for r in recs)
    state = json.loads((full / "checkpoints" / "step_00000003" / "state.json").read_text())["trainer"]["growth"]
    assert state["images"] == 12 and state["alpha"] == 0.0  # the state written after step 3 (alpha 0 was used)

    # stop in the middle of the fade (after step 3, alpha 0 used; 0.5 next), then resume
    part = engine(tmp_path / "part", image_dir, steps=3).run_training()
    resumed = engine(part, image_dir, steps=6, resume=True).run_training()
    assert [r["alpha"] for r in records(resumed)] == [1, 1, 0, 0.5, 1, 1]
    a, b = load_file(str(full / "final" / "model.safetensors")), load_file(str(resumed / "final" / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)

    # the saved (EMA) generator knows its growth state and samples at the final resolution
    from zoo_core.hub import from_pretrained

    model = from_pretrained(full, device="cpu")
    assert int(model.level) == 1 and float(model.alpha) == 1.0
    images = model.generate(3, seed=0)
    assert images.shape == (3, 3, 8, 8) and images.abs().max() <= 1
    torch.testing.assert_close(images, model.generate(3, seed=0))
    assert (full / "final" / "discriminator.safetensors").is_file()
    assert model.interpolate(0, 1, 4).shape == (4, 3, 8, 8)


def test_samples_at_the_current_resolution_and_buffers_follow_growth():
    cfg = PGGANConfig(res=16, z_dim=8, channel_base=32, max_channels=8, min_channels=4, fade_images=4,
                      stable_images=4)
    model = PGGAN(cfg)
    assert model.generate(2, seed=0).shape == (2, 3, 4, 4)
    model.set_growth(1, 0.0)
    z = torch.randn(2, 8)
    torch.testing.assert_close(model(z), upsample(model(z, level=0, alpha=1.0)))
    assert model.generate(2, seed=0).shape == (2, 3, 8, 8)
    assert {"level", "alpha"} <= set(model.state_dict())
    with pytest.raises(ZooError, match="not class-conditional; drop label="):
        model.generate(1, label=1)


def test_class_cond_trains_an_ac_gan_and_samples_each_class(image_dir, tmp_path):
    """--class-cond: the class count comes from the data, D gains a class head, both AC-GAN terms are logged."""
    run = engine(tmp_path / "ac", "builtin:shapes", steps=3, class_cond=True).run_training()
    recs = records(run)
    assert all(np.isfinite(r["ac_d"]) and np.isfinite(r["ac_g"]) and "ac_acc_real" in r for r in recs)
    from zoo_core.hub import from_pretrained

    model = from_pretrained(run, device="cpu")
    k = model.num_classes
    assert k == model.config.num_classes > 1 and model.net.dense.weight.shape[1] == 8 + k
    assert load_file(str(run / "final" / "discriminator.safetensors"))["out.weight"].shape[0] == 1 + k
    torch.testing.assert_close(model.generate(2, seed=1, label=1), model.generate(2, seed=1, label=1))
    assert not torch.equal(model.generate(2, seed=1, label=0), model.generate(2, seed=1, label=1))
    strip = model.interpolate(3, 4, 3)  # keeps seed 3's class: its first frame is generate(1, seed=3)
    torch.testing.assert_close(strip[:1], model.generate(1, seed=3), atol=1e-6, rtol=0)
    with pytest.raises(ZooError, match="needs labelled data"):
        engine(tmp_path / "x", image_dir, steps=1, class_cond=True).setup()  # flat folder: no classes


@pytest.mark.parametrize("reset", [True, False])
def test_adam_moments_reset_when_a_phase_starts(reset):
    cfg = PGGANConfig(res=8, z_dim=8, channel_base=32, max_channels=8, min_channels=4, fade_images=8,
                      stable_images=8, reset_optim=reset)
    trainer = PGGANTrainer(PGGAN(cfg), cfg, DataInfo(size=16), TrainConfig(batch_size=4), "cpu")
    batch = {"image": torch.rand(4, 3, 8, 8) * 2 - 1, "label": torch.zeros(4, dtype=torch.long)}
    sizes = []
    for step in range(3):  # steps 0, 1 at 4x4 (stable); step 2 starts the 8x8 fade
        phases = trainer.phases(step)
        sizes.append(len(trainer.optimizers["d"].state))
        for phase in phases:
            opt = trainer.optimizers[phase.optimizer]
            opt.zero_grad(set_to_none=True)
            phase.loss(batch)[0].backward()
            opt.step()
    assert trainer.growth.phase == "fade" and sizes[1] > 0
    assert (sizes[2] == 0) == reset
