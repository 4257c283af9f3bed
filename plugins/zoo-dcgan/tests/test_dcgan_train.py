"""DCGAN training end to end (engine, samples, final/, zoo sample) and every trick on one batch."""

import json
import math

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file
from zoo_dcgan.config import DCGANConfig
from zoo_dcgan.model import DCGAN
from zoo_dcgan.trainer import DCGANTrainer

from zoo_core import training
from zoo_core.cli import main
from zoo_core.data import DataInfo
from zoo_core.images import read_meta
from zoo_core.train_config import TrainConfig

TINY = {"res": 16, "channels": 4, "z_dim": 8, "batch_size": 8, "progress": False, "device": "cpu",
        "log_every": 1, "sample_n": 4}


def engine(out, callbacks=None, **values):
    values = {"data": "builtin:shapes", "out": str(out), **TINY, **values}
    return training.engine("dcgan", callbacks=callbacks, **values)


def test_short_run_trains_both_nets_and_samples(tmp_path):
    first = {}

    def snapshot(eng):  # called after every step; keep the weights after step 1
        if not first:
            first["d"] = eng.trainer.discriminator.score.weight.detach().clone()
            first["g"] = eng.model.net.net[0].weight.detach().clone()

    eng = engine(tmp_path / "run", [snapshot], steps=5, sample_every=5, checkpoint_every=5)
    run = eng.run_training()
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if '"event"' not in x]
    assert [x["step"] for x in lines] == [1, 2, 3, 4, 5]
    assert all({"loss_d", "loss_g", "d_real", "d_fake", "grad_norm_d", "grad_norm_g"} <= set(x) for x in lines)
    assert len({x["loss_d"] for x in lines}) == 5 and len({x["loss_g"] for x in lines}) == 5
    assert abs(lines[-1]["loss_d"] - lines[0]["loss_d"]) > 1e-3
    # both networks kept moving after the first step, and final/ holds the trained D
    assert not torch.allclose(eng.model.net.net[0].weight, first["g"])
    d_final = load_file(str(run / "final" / "discriminator.safetensors"))
    assert not torch.allclose(d_final["score.weight"], first["d"])
    assert torch.equal(d_final["score.weight"], eng.trainer.discriminator.score.weight.detach())
    assert (run / "samples" / "step_00000005.png").is_file()
    assert {"model.safetensors", "discriminator.safetensors", "config.json"} <= {p.name for p in (run / "final").iterdir()}
    saved = json.loads((run / "final" / "config.json").read_text())
    assert saved["zoo_model"] == "dcgan" and saved["config"]["d_norm"] == "batch"

    main(["sample", str(run), "--n", "4", "--out", str(tmp_path / "x.png"), "--seed", "1"])
    k = math.ceil(256 / (2 * 16 + 3 * 2))  # grids are upscaled by a whole factor to >= 256 px
    assert Image.open(tmp_path / "x.png").size == (k * (2 * 16 + 3 * 2), k * (2 * 16 + 3 * 2))  # 2x2, 2 px pad
    assert read_meta(tmp_path / "x.png")["seed"] == "1" and read_meta(tmp_path / "x.png")["model"] == "dcgan"
    main(["sample", str(run), "--interpolate", "1,2", "--frames", "4", "--out", str(tmp_path / "strip.png")])
    k = math.ceil(256 / (4 * 16 + 5 * 2))
    assert Image.open(tmp_path / "strip.png").size == (k * (4 * 16 + 5 * 2), k * (16 + 2 * 2))
    with pytest.raises(SystemExit):
        main(["sample", str(run), "--n", "2", "--class", "1", "--out", str(tmp_path / "y.png")])


def test_resume_continues_exactly(tmp_path):
    straight = engine(tmp_path / "a", steps=2, checkpoint_every=1, sample_every=100).run_training()
    engine(tmp_path / "b", steps=1, checkpoint_every=1, sample_every=100).run_training()
    resumed = engine(tmp_path / "b", steps=2, checkpoint_every=1, sample_every=100, resume=True).run_training()
    for name in ("model.safetensors", "discriminator.safetensors"):
        a, b = load_file(str(straight / "final" / name)), load_file(str(resumed / "final" / name))
        assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a), name


def _trainer(**kw):
    cfg = DCGANConfig(**{"res": 16, "channels": 4, "z_dim": 8, **kw})
    cfg = DCGAN.adapt_config(cfg, DataInfo(size=16, num_classes=3))
    torch.manual_seed(0)
    model = DCGAN(cfg)
    return DCGANTrainer(model, cfg, DataInfo(size=16, num_classes=3), TrainConfig(lr=1e-3), torch.device("cpu"))


def _batch(n=6):
    g = torch.Generator().manual_seed(0)
    return {"image": torch.rand(n, 3, 16, 16, generator=g) * 2 - 1, "label": torch.tensor([0, 1, 2, -1, 0, 1][:n])}


def _step(trainer, step):
    logs = {}
    for phase in trainer.phases(step):
        opt = trainer.optimizers[phase.optimizer]
        trainer.discriminator.zero_grad(set_to_none=True)
        for _ in range(phase.repeats):
            opt.zero_grad(set_to_none=True)
            loss, parts = phase.loss(_batch())
            assert torch.isfinite(loss)
            loss.backward()
            if phase.optimizer == "g":  # G's update leaves D's gradients alone
                assert all(p.grad is None for p in trainer.discriminator.parameters())
            opt.step()
            logs.update(parts)
    return logs


def test_wgan_gp_replay_noise_and_class_conditioning():
    tr = _trainer(loss="wgan-gp", class_cond=True, replay_size=8, instance_noise=0.1, instance_noise_steps=10,
                  drift_weight=0.001, d_optimizer="sgd", lr_d=0.01)
    assert isinstance(tr.optimizers["d"], torch.optim.SGD) and tr.optimizers["d"].param_groups[0]["lr"] == 0.01
    assert tr.phases(0)[0].repeats == 5 and tr.config.d_norm == "instance"
    logs = _step(tr, 0)
    assert {"gp", "drift", "ac_d", "ac_g", "loss_d", "loss_g"} <= set(logs) and logs["gp"] > 0
    assert len(tr.replay) == 8 and tr.replay.pushed == 5 * 6
    json.dumps(tr.state_dict())  # checkpointable
    assert set(tr.components()) == {"discriminator"}


@pytest.mark.parametrize("kw", [{"label_smoothing": "random", "label_flip": 0.1, "separate_batches": False},
                                {"loss": "hinge", "d_norm": "spectral", "upsample": "pixelshuffle"},
                                {"loss": "lsgan", "label_smoothing": "0.9"}, {"loss": "minimax"}])
def test_other_losses_and_options_train(kw):
    tr = _trainer(**kw)
    before = [p.detach().clone() for p in tr.model.parameters()]
    logs = _step(tr, 0)
    assert all(torch.isfinite(torch.tensor(v)) for v in logs.values())
    assert any(not torch.equal(a, b) for a, b in zip(before, tr.model.parameters(), strict=True))
