"""Short training runs on builtin:shapes: both stages in one command, and Stage II on a frozen Stage I."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file
from zoo_stackgan.config import StackGANConfig

from zoo_core.cli import main
from zoo_core.config import build
from zoo_core.data import DataConfig
from zoo_core.engine import Engine
from zoo_core.hub import from_pretrained
from zoo_core.plugins import registry
from zoo_core.train_config import TrainConfig

TINY = ["--g-channels", "4", "--g2-channels", "4", "--res-blocks", "1", "--d-channels", "4", "--c-dim", "4",
        "--z-dim", "4", "--compress-dim", "4", "--batch-size", "4", "--log-every", "1", "--sample-n", "2",
        "--no-progress", "--device", "cpu", "--data", "builtin:shapes"]


def test_both_stages_in_one_command(tmp_path):
    out = tmp_path / "both"
    main(["train", "stackgan", "--stage", "both", "--res", "32", "--steps", "4", "--stage1-steps", "2",
          "--sample-every", "2", "--out", str(out), *TINY])
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()
               if '"event"' not in line]  # step lines only, not health events
    assert [("grad_norm_d1" in r, "grad_norm_d2" in r) for r in records] == [(True, False)] * 2 + [(False, True)] * 2
    assert all(r["d_wrong"] >= 0 and r["kl"] >= 0 for r in records)
    final = out / "final"
    assert {p.name for p in final.glob("*.safetensors")} == {"model.safetensors", "discriminator1.safetensors",
                                                            "discriminator2.safetensors"}
    model = from_pretrained(final, device="cpu")
    assert model.generate(2, seed=0, prompt="a red circle on a dark background").shape == (2, 3, 32, 32)
    assert model.generate(2, seed=0, stage=1).shape == (2, 3, 8, 8)
    # Stage I stopped changing when Stage II started: its weights at step 2 are its final weights
    ckpt = load_file(out / "checkpoints" / "step_00000004" / "tensors.safetensors")
    assert all(torch.equal(v, model.state_dict()[k[len("module.g."):]])
               for k, v in ckpt.items() if k.startswith("module.g.g1."))


def test_stage2_on_a_frozen_stage1_run(tmp_path):
    s1, s2 = tmp_path / "s1", tmp_path / "s2"
    main(["train", "stackgan", "--res", "8", "--steps", "2", "--vocab-size", "12", "--out", str(s1), *TINY])
    main(["train", "stackgan", "--stage", "2", "--stage1", str(s1), "--res", "32", "--steps", "2",
          "--out", str(s2), *TINY])
    first, second = from_pretrained(s1, device="cpu"), from_pretrained(s2, device="cpu")
    assert second.config.vocab == first.config.vocab and len(first.config.vocab) == 12
    for name in ("text", "ca1", "g1"):
        a, b = getattr(first, name).state_dict(), getattr(second, name).state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    prompt = first.captions()[0]
    assert torch.equal(second.generate(2, seed=1, prompt=prompt, stage=1), first.generate(2, seed=1, prompt=prompt))
    assert not (s2 / "final" / "discriminator1.safetensors").exists()


def test_stage2_needs_a_matching_stage1(tmp_path, capsys):
    s1 = tmp_path / "s1"
    main(["train", "stackgan", "--res", "8", "--steps", "1", "--out", str(s1), *TINY])
    for args, message in ((["--res", "64"], "pass --res 32"), ([], "pass --stage1")):
        with pytest.raises(SystemExit):
            main(["train", "stackgan", "--stage", "2", *(["--stage1", str(s1)] if args else []),
                  *(args or ["--res", "32"]), "--steps", "1", "--out", str(tmp_path / "x"), *TINY])
        assert message in capsys.readouterr().err


def _engine_run(out, stop_after: int | None = None, resume: bool = False) -> None:
    model_cfg = build(StackGANConfig, {"stage": "both", "res": 32, "stage1_steps": 2, "g_channels": 4,
                                       "g2_channels": 4, "res_blocks": 1, "d_channels": 4, "c_dim": 4, "z_dim": 4,
                                       "compress_dim": 4})
    train_cfg = TrainConfig(out=str(out), resume=resume, steps=4, batch_size=4, lr=2e-4, ema=False, log_every=1,
                            sample_every=100, sample_n=2, checkpoint_every=1, progress=False, device="cpu")

    def stop(engine):  # what Ctrl-C does: finish the step, write a checkpoint, return
        engine.run.stop = stop_after is not None and engine.run.step >= stop_after

    Engine(registry().model("stackgan"), model_cfg, train_cfg, DataConfig(data="builtin:shapes"),
           callbacks=[stop]).run_training()


def test_resume_across_the_stage_switch_is_exact(tmp_path):
    _engine_run(tmp_path / "a")
    _engine_run(tmp_path / "b", stop_after=1)  # stopped in Stage I ...
    assert not (tmp_path / "b" / "final").exists()
    _engine_run(tmp_path / "b", resume=True)  # ... resumed into Stage II
    for name in ("model", "discriminator1", "discriminator2"):
        a = load_file(tmp_path / "a" / "final" / f"{name}.safetensors")
        b = load_file(tmp_path / "b" / "final" / f"{name}.safetensors")
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
