"""`zoo sample` and ``generate()`` of a DDPM default to DPM-Solver++ in 20 steps (measured within 10% of
1,000 ancestral steps' FID, docs/performance.md); ancestral stays one flag away. iDDPM keeps ancestral, in
100 respaced steps when its variances are learned (as good as all 1,000 on unseen digits, quality_iddpm.md);
so does ancestral sampling with the posterior variance (better than all 1,000 there, quality_ddpm.md)."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from zoo_core import create_model
from zoo_core.cli import cli
from zoo_core.images import read_meta


def tiny(name: str = "ddpm", timesteps: int = 40, **kw):
    return create_model(name, res=8, channels=8, channel_mults=(1, 2), attn_res=(), timesteps=timesteps, **kw).eval()


def network_calls(model, **kw) -> set[int]:
    calls = []
    model.generate(1, seed=0, callback=lambda step, total: calls.append(total), **kw)
    return set(calls)


def test_generate_defaults_to_dpm_solver_20_steps():
    model, calls = tiny(), []
    default = model.generate(2, seed=3, callback=lambda step, total: calls.append(total))
    assert torch.equal(default, model.generate(2, seed=3, sampler="dpm++", steps=20))
    assert set(calls) == {20}  # 20 network calls, not the T = 40 of ancestral sampling
    assert not torch.equal(default, model.generate(2, seed=3, sampler="ancestral"))


def test_iddpm_keeps_ancestral():
    model = tiny("iddpm")
    assert torch.equal(model.generate(2, seed=1, steps=10), model.generate(2, seed=1, sampler="ancestral", steps=10))


def test_learned_variances_sample_100_respaced_ancestral_steps_by_default():
    model = tiny("iddpm", timesteps=400)
    assert model.default_steps() == 100 and network_calls(model) == {100}
    assert torch.equal(model.generate(2, seed=4), model.generate(2, seed=4, sampler="ancestral", steps=100))
    assert network_calls(model, steps=400) == {400}  # all T stays one flag away
    assert (model.default_steps("dpm++"), model.default_steps("ddim"), model.default_steps("heun")) == (20, 50, 18)


@pytest.mark.parametrize("name,timesteps,kw,expected", [
    ("iddpm", 400, {"variance": "large", "loss": "simple"}, 400),  # b_t: respacing it costs most quality; all T
    ("ddpm", 400, {"variance": "small"}, 100),  # the posterior variance b~_t (ddpm's default for new runs) respaces
    ("ddpm", 400, {}, 400),  # a config that names no variance is Ho et al.'s b_t
    ("iddpm", 40, {}, 40),  # never more steps than T
    ("ddpm", 400, {"variance": "learned", "loss": "hybrid"}, 100),  # the rule is the variances', not the family's
])
def test_default_ancestral_steps_follow_the_variances(name, timesteps, kw, expected):
    model = tiny(name, timesteps=timesteps, **kw)
    assert model.default_steps("ancestral") == expected
    assert network_calls(model, sampler="ancestral") == {expected}


def test_zoo_sample_records_the_default_and_takes_ancestral(tmp_path):
    folder = tiny().save_pretrained(tmp_path / "model")
    runner = CliRunner()
    for args, sampler in (([], "dpm++"), (["--sampler", "ancestral", "--steps", "5"], "ancestral")):
        out = tmp_path / f"{sampler}.png"
        res = runner.invoke(cli, ["sample", str(folder), "--n", "2", "--out", str(out), *args], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        assert read_meta(out)["sampler"] == sampler
        assert read_meta(out)["steps"] == ("20" if sampler == "dpm++" else "5")  # the steps taken, default or not
    folder = tiny("iddpm", timesteps=400).save_pretrained(tmp_path / "iddpm")
    res = runner.invoke(cli, ["sample", str(folder), "--n", "1", "--out", str(tmp_path / "i.png")],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert {k: read_meta(tmp_path / "i.png")[k] for k in ("sampler", "steps")} == {"sampler": "ancestral", "steps": "100"}


@pytest.mark.parametrize("args,sampling", [([], {"sampler": "ancestral", "steps": 100}),
                                           (["--sampler", "ddim"], {"sampler": "ddim", "steps": 50}),
                                           (["--steps", "7"], {"sampler": "ancestral", "steps": 7})])
def test_zoo_eval_records_how_the_model_was_sampled(tmp_path, args, sampling):
    folder = tiny("iddpm", timesteps=400).save_pretrained(tmp_path / "iddpm")
    out = tmp_path / "results.json"
    res = CliRunner().invoke(cli, ["eval", str(folder), "--data", "builtin:shapes", "--n", "2", "--extractor",
                                   "random", "--device", "cpu", "--out", str(out), *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["sampling"] == sampling
    assert f"sampled with {sampling['sampler']}, {sampling['steps']} steps" in res.output
