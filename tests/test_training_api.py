"""The public training API: zoo_core.train layers options as ``zoo train`` does; Engine.setup/step."""

from __future__ import annotations

import itertools
import json

import pytest
import torch

import zoo_core
from zoo_core import training
from zoo_core.cli import main
from zoo_core.errors import ZooError

FAST = {"steps": 2, "progress": False, "device": "cpu", "sample_n": 4}


def test_layers_defaults_preset_file_then_options(toy_spec, image_dir, tmp_path):
    cfg_file = tmp_path / "opts.toml"
    cfg_file.write_text("[model]\nwidth = 7\nnoise = 0.2\n[train]\nlr = 0.003\n")
    run = zoo_core.train("toy", data=str(image_dir), out=str(tmp_path / "run"), preset="wide",
                         config=cfg_file, noise=0.3, **FAST)
    rec = zoo_core.load_run_config(run)
    assert rec["zoo_model"] == "toy"
    assert rec["config"]["width"] == 7  # the file beats the preset's 16
    assert rec["config"]["noise"] == 0.3  # the options beat the file
    assert rec["train"]["lr"] == 0.003  # the file beats the preset's 5e-3 and TRAIN_DEFAULTS' 1e-2
    assert rec["train"]["batch_size"] == 8  # the model's TRAIN_DEFAULTS beat the engine's 16
    assert (run / "final" / "model.safetensors").is_file()


def test_cli_and_api_write_the_same_config(toy_spec, image_dir, tmp_path):
    zoo_core.train("toy", data=str(image_dir), out=str(tmp_path / "api"), preset="wide", width=5, **FAST)
    main(["train", "toy", "--data", str(image_dir), "--out", str(tmp_path / "cli"), "--preset", "wide",
          "--width", "5", "--steps", "2", "--no-progress", "--device", "cpu", "--sample-n", "4"])
    api, cli = (training.load_run_config(tmp_path / d) for d in ("api", "cli"))
    for rec in (api, cli):
        rec["train"].pop("out")
    assert api == cli


def test_rerun_with_same_out_keeps_the_recorded_options(toy_spec, image_dir, tmp_path):
    out = str(tmp_path / "run")
    zoo_core.train("toy", data=str(image_dir), out=out, width=6, **FAST)
    zoo_core.train("toy", data=str(image_dir), out=out, resume=True, **{**FAST, "steps": 3})
    rec = zoo_core.load_run_config(out)
    assert rec["config"]["width"] == 6 and rec["train"]["steps"] == 3


@pytest.mark.parametrize("kwargs, needle", [
    ({"preset": "nope"}, "unknown preset 'nope' for toy"),
    ({"widht": 3}, "unknown option 'widht' in the arguments"),
    ({"width": 0}, "--width in the arguments: must be >= 1"),
])
def test_bad_options_are_one_line_errors(toy_spec, image_dir, tmp_path, kwargs, needle):
    with pytest.raises(ZooError, match=needle.replace("(", r"\(")) as err:
        zoo_core.train("toy", data=str(image_dir), out=str(tmp_path / "r"), **kwargs)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "r").exists()


def test_load_run_config_missing_and_corrupt(tmp_path):
    assert zoo_core.load_run_config(tmp_path) is None
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ZooError, match="config.json is not valid JSON"):
        zoo_core.load_run_config(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps([1, 2]))
    with pytest.raises(ZooError, match="must hold a JSON object"):
        zoo_core.load_run_config(tmp_path)


def test_setup_and_step_by_hand_with_a_fixed_batch(toy_spec, image_dir, tmp_path):
    eng = training.engine("toy", data=str(image_dir), noise=0.0, ema=False, **FAST)
    eng.setup(out=tmp_path / "run")
    assert eng.run.out == tmp_path / "run" and not (tmp_path / "run").exists()  # setup writes nothing
    batch = {"image": torch.stack([eng.dataset[(i, i)]["image"] for i in range(eng.micro)])}
    eng.batches = itertools.repeat(batch)

    def loss():
        with torch.no_grad():
            return float((eng.model(batch["image"]) - batch["image"]).pow(2).mean())

    before = loss()
    assert all(eng.step() for _ in range(5))
    assert loss() < before
    assert eng.run.position == 5 * eng.micro
