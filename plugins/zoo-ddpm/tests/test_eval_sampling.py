"""--eval-every on a diffusion model samples with DPM-Solver++ (20 steps), not 1,000 ancestral
steps (with learned variances: 100 respaced ancestral steps, as ``zoo sample`` does), unless --eval-sampler/--eval-steps say otherwise, and prints its results."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from zoo_core.cli import cli
from zoo_core.metrics.periodic import eval_sampling, eval_summary

TINY = ["--res", "8", "--channels", "8", "--channel-mults", "1,2", "--num-res-blocks", "1", "--attn-res", "4",
        "--timesteps", "100", "--batch-size", "4", "--no-progress", "--device", "cpu", "--data", "builtin:shapes",
        "--steps", "2", "--eval-every", "2", "--eval-n", "4", "--eval-extractor", "random",
        "--sample-every", "100"]


def _evals(run):
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if '"eval"' in x]


@pytest.mark.parametrize("name,extra,sampling,shown", [
    ("ddpm", [], {"sampler": "dpm++", "steps": 20}, "dpm++ 20 steps"),
    ("ddpm", ["--eval-sampler", "ddim", "--eval-steps", "5"], {"sampler": "ddim", "steps": 5}, "ddim 5 steps"),
    # learned variances: what `zoo sample` draws (dpm++ reads only the mean; quality_iddpm.md)
    ("iddpm", ["--timesteps", "200"], {"sampler": "ancestral", "steps": 100}, "ancestral 100 steps"),
    ("iddpm", ["--variance", "large", "--loss", "simple"], {"sampler": "dpm++", "steps": 20}, "dpm++ 20 steps"),
    ("ddpm", ["--variance", "learned", "--loss", "hybrid", "--timesteps", "200"],  # the variances' rule, any family
     {"sampler": "ancestral", "steps": 100}, "ancestral 100 steps"),
])
def test_diffusion_eval_uses_a_fast_sampler_and_prints(tmp_path, name, extra, sampling, shown):
    run = tmp_path / "run"
    res = CliRunner().invoke(cli, ["train", name, "--out", str(run), *TINY, *extra], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    (record,) = _evals(run)
    assert {k: record[k] for k in ("sampler", "steps")} == sampling
    line = next(x for x in res.output.splitlines() if x.startswith("eval step 2: fid "))
    assert f"(4 images, {shown}, " in line


def test_eval_sampling_precedence_and_summary():
    trainer = SimpleNamespace(eval_kwargs={"sampler": "dpm++", "steps": 20})
    cfg = SimpleNamespace(eval_sampler=None, eval_steps=None)
    assert eval_sampling(trainer, cfg) == {"sampler": "dpm++", "steps": 20}
    assert eval_sampling(trainer, SimpleNamespace(eval_sampler=None, eval_steps=8)) == {"sampler": "dpm++", "steps": 8}
    # a sampler the user picks keeps its own default steps
    assert eval_sampling(trainer, SimpleNamespace(eval_sampler="heun", eval_steps=None)) == {"sampler": "heun"}
    assert eval_sampling(SimpleNamespace(), cfg) == {}  # GANs: one pass, nothing to choose
    line = eval_summary(40, {"fid": 123.456789, "kid": 0.0123}, 32, {"sampler": "[red]x", "steps": 4}, 2.04)
    assert line == r"[bold]eval[/] step 40: fid 123.5, kid 0.0123 (32 images, \[red]x 4 steps, 2.0 s)"
    assert eval_summary(1, {"fid": 3.0}, 8, {}, 0.5).endswith("fid 3 (8 images, 0.5 s)")
