"""Training through the engine: hybrid loss with the loss-aware sampler, exact resume, class labels."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from rich.console import Console
from zoo_iddpm.config import IDDPMConfig

from zoo_core.data import DataConfig
from zoo_core.engine import Engine
from zoo_core.errors import ZooError
from zoo_core.hub import from_pretrained
from zoo_core.plugins import registry
from zoo_core.train_config import TrainConfig

TINY = {"res": 8, "channels": 8, "num_res_blocks": 1, "timesteps": 4, "dropout": 0.0}


def train(out, steps: int, resume: bool = False, data: str = "builtin:shapes", **model) -> Engine:
    cfg = IDDPMConfig(**{**TINY, "timestep_sampler": "loss-aware", **model})
    tcfg = TrainConfig(out=str(out), steps=steps, batch_size=8, lr=1e-3, checkpoint_every=3, sample_every=1000,
                       sample_n=2, log_every=1, progress=False, device="cpu", resume=resume)
    engine = Engine(registry().model("iddpm"), cfg, tcfg, DataConfig(data=data), console=Console(quiet=True))
    engine.run_training()
    return engine


def test_hybrid_loss_aware_run_resumes_exactly(tmp_path):
    whole = train(tmp_path / "whole", steps=7)
    logs = [json.loads(line) for line in (tmp_path / "whole" / "metrics.jsonl").read_text().splitlines()
            if '"event"' not in line]  # step lines only, not health events
    assert len(logs) == 7 and all(k in logs[-1] for k in ("loss", "loss_mse", "loss_vlb"))
    assert all(torch.isfinite(torch.tensor([r["loss"], r["loss_mse"], r["loss_vlb"]])).all() for r in logs)
    sampler = whole.trainer.timestep_sampler
    assert sampler.warmed_up()  # 7 x 8 draws over T = 4: the importance weights were in use
    state = json.loads((tmp_path / "whole" / "checkpoints" / "step_00000007" / "state.json").read_text())
    assert state["trainer"]["timestep_sampler"]["counts"] == [10] * 4

    train(tmp_path / "split", steps=3)  # stops after step 3 (checkpoint), then resumes to 7
    split = train(tmp_path / "split", steps=7, resume=True)
    assert split.trainer.state_dict() == whole.trainer.state_dict()
    for (name, a), b in zip(whole.model.state_dict().items(), split.model.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6, msg=name)

    model = from_pretrained(tmp_path / "whole" / "final", device="cpu")
    assert model.zoo_name == "iddpm" and model.config.timestep_sampler == "loss-aware"
    a = model.generate(2, seed=3, steps=2)
    assert a.shape == (2, 3, 8, 8) and a.abs().max() <= 1
    torch.testing.assert_close(a, model.generate(2, seed=3, spacing="2"))
    assert model.generate(2, seed=3, sampler="ddim", steps=3).shape == (2, 3, 8, 8)
    with pytest.raises(ZooError, match="cannot take 3 steps"):
        model.generate(1, spacing="3,3")  # 3 steps from a section of 2
    with pytest.raises(ZooError, match="not both"):
        model.generate(1, steps=2, spacing="2")


def test_class_conditional_training_and_sampling(tmp_path):
    from zoo_core.cli import main

    train(tmp_path / "run", steps=3, class_cond=True)
    model = from_pretrained(tmp_path / "run" / "final", device="cpu")
    assert model.config.class_cond and model.config.num_classes == 3
    assert model.unet.label is not None and model.unet.label.num_embeddings == 3
    x, t = torch.randn(2, 3, 8, 8), torch.tensor([1, 2])
    one, two = model.denoise(x, t, label=torch.tensor([1, 1])), model.denoise(x, t, label=torch.tensor([2, 2]))
    assert (one - two).abs().max() > 1e-6  # the label reaches the output
    assert model.generate(2, seed=0, steps=2, label=1).shape == (2, 3, 8, 8)
    with pytest.raises(ZooError, match=r"label \(--class\): no value 3; valid values: an integer 0\.\.2"):
        model.generate(1, steps=2, label=3)
    out = tmp_path / "grid.png"
    main(["sample", str(tmp_path / "run"), "--n", "2", "--steps", "2", "--class", "1", "--out", str(out)])
    assert out.is_file()


def test_class_cond_without_labels_is_a_clear_error(tmp_path):
    import numpy as np
    from PIL import Image

    folder = tmp_path / "flat"
    folder.mkdir()
    for i in range(4):
        Image.fromarray(np.full((8, 8, 3), 40 * i, dtype=np.uint8)).save(folder / f"{i}.png")
    with pytest.raises(ZooError, match="--class-cond needs labelled data"):
        train(tmp_path / "run", steps=1, data=str(folder), class_cond=True)


def test_config_fields_become_cli_flags():
    from zoo_core.options import click_options

    flags = {o.opts[0] for o in click_options(IDDPMConfig)}
    assert {"--timestep-sampler", "--loss", "--vlb-weight", "--class-cond"} <= flags
    assert "--num-classes" not in flags  # set from the data by --class-cond
    assert {f.name for f in dataclasses.fields(IDDPMConfig)} >= {"num_classes", "class_cond"}
