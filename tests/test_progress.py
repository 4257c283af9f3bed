"""Progress off a terminal, the start banner and closing summary, strict metrics.jsonl, grid PNGs."""

from __future__ import annotations

import io
import json
import math
import re

import pytest
import torch
from rich.console import Console

from zoo_core.config import layer
from zoo_core.data import DataConfig
from zoo_core.engine import Engine
from zoo_core.errors import ZooError
from zoo_core.images import read_meta, save_folder, save_grid
from zoo_core.loggers import jsonl
from zoo_core.progress import LineProgress, default_every, duration, make_progress
from zoo_core.train_config import TrainConfig


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def _console():
    return Console(file=io.StringIO(), width=300)  # not a terminal, like nohup or a pipe


def test_line_progress_prints_every_n_seconds_with_rate_and_eta():
    clock, con = Clock(), _console()
    with LineProgress(con, every=30, clock=clock, unit="img") as bar:
        task = bar.add_task("fid generated", total=100)
        for _ in range(10):  # 10 images per 5 s: a line at 30 s and 60 s only
            clock.t += 5
            bar.advance(task, 10)
            if clock.t == 50:
                break
    lines = con.file.getvalue().splitlines()
    assert lines[0] == "fid generated 60/100 (60%) 2 img/s ETA 20s"
    assert lines[-1] == "fid generated 100/100 (100%) 2 img/s done in 50s"
    assert len(lines) == 2


def test_make_progress_is_plain_off_a_terminal_and_rich_on_one():
    from rich.progress import Progress

    assert isinstance(make_progress(console=_console()), LineProgress)
    assert isinstance(make_progress(console=Console(file=io.StringIO(), force_terminal=True)), Progress)


def test_progress_every_env_and_durations(monkeypatch):
    monkeypatch.setenv("ZOO_PROGRESS_EVERY", "5")
    assert default_every() == 5.0
    monkeypatch.setenv("ZOO_PROGRESS_EVERY", "soon")
    with pytest.raises(ZooError, match="ZOO_PROGRESS_EVERY=30"):
        default_every()
    assert [duration(s) for s in (42, 307, 7380, None)] == ["42s", "5m07s", "2h03m", "?"]


def _engine(toy_spec, out, data, console, **values):
    from toy_zoo import ToyConfig

    values = {"data": str(data), "out": str(out), "device": "cpu", **values}
    cfgs = layer({"model": ToyConfig, "data": DataConfig, "train": TrainConfig},
                 [("defaults", ToyConfig.TRAIN_DEFAULTS), ("test", values)])
    return Engine(toy_spec, cfgs["model"], cfgs["train"], cfgs["data"], console=console)


def test_training_without_tty_prints_banner_progress_lines_and_summary(toy_spec, image_dir, tmp_path, monkeypatch):
    import toy_zoo

    monkeypatch.setattr(toy_zoo.ToyTrainer, "health", lambda self, logs: ["toy says slow down"], raising=True)
    con = _console()
    out = _engine(toy_spec, tmp_path / "run", image_dir, con, steps=6, progress_every=0, sample_every=3,
                  checkpoint_every=100).run_training()
    text = con.file.getvalue()
    assert "zoo train toy: 6 steps of" in text and "device     cpu" in text and "precision fp32" in text
    assert "parameters net" in text and "(12 images, 2 classes)" in text and f"run folder {out}" in text
    steps = [ln for ln in text.splitlines() if ln.startswith("train toy step ")]
    assert [ln.split()[3] for ln in steps] == [f"{i}/6" for i in range(1, 7)]
    assert all("img/s" in ln and ("ETA" in ln or "done in" in ln) for ln in steps)
    assert "loss=" in steps[-1] and "| health: step 1 trainer: toy says slow down" in steps[-1]
    assert "done: 6 steps in" in text and "1 warning(s)" in text and f"report     {out / 'report.html'}" in text
    # the health warning shown on the terminal is in metrics.jsonl too: its own record, before its step's line
    records = jsonl.read(out / "metrics.jsonl")
    assert {k: records[0][k] for k in ("event", "step", "kind", "message")} == \
        {"event": "health", "step": 1, "kind": "trainer", "message": "toy says slow down"}
    assert records[1]["step"] == 1 and "loss" in records[1]


def test_metrics_jsonl_is_strict_json_with_nonfinite_flags(toy_spec, image_dir, tmp_path):
    con = _console()
    out = _engine(toy_spec, tmp_path / "run", image_dir, con, steps=3, fail_at=1, progress=False,
                  checkpoint_every=100).run_training()

    def reject(name):
        raise AssertionError(f"non-JSON literal {name} in metrics.jsonl")

    lines = [json.loads(x, parse_constant=reject) for x in (out / "metrics.jsonl").read_text().splitlines()]
    lines = [x for x in lines if x.get("event") != "health"]  # the skipped step's own health record
    assert lines[1]["loss"] is None and lines[1]["nonfinite"]["loss"] == "nan"
    assert "nonfinite" not in lines[0] and math.isfinite(lines[0]["loss"])
    assert jsonl.dumps({"eval": {"fid": float("inf")}, "x": [1.0, float("-inf")]}) == \
        '{"eval": {"fid": null}, "x": [1.0, null], "nonfinite": {"eval.fid": "inf", "x[1]": "-inf"}}'


def test_grids_are_upscaled_nearest_and_pngs_carry_metadata(tmp_path):
    images = torch.linspace(-1, 1, 4 * 3 * 8 * 8).reshape(4, 3, 8, 8)
    path = save_grid(images, tmp_path / "g.png", meta={"seed": 7, "sampler": "ddim", "steps": 20,
                                                       "prompt": ["a red circle"], "class": None})
    from PIL import Image

    native = 2 * 8 + 3 * 2  # 2x2 grid with 2 px padding
    k = math.ceil(256 / native)
    with Image.open(path) as im:
        assert im.size == (k * native, k * native)
        small = im.resize((native, native), Image.NEAREST)
    import numpy as np

    assert np.array_equal(np.asarray(small), np.asarray(Image.open(save_grid(images, tmp_path / "n.png", min_width=0))))
    meta = read_meta(path)
    assert meta["seed"] == "7" and meta["sampler"] == "ddim" and meta["steps"] == "20"
    assert json.loads(meta["prompt"]) == ["a red circle"] and "class" not in meta
    files = save_folder(images, tmp_path / "f", meta={"seed": 7})
    assert Image.open(files[2]).size == (8, 8) and read_meta(files[2])["index"] == "2"


def test_zoo_sample_and_zoo_eval_print_progress_lines_without_a_tty(toy_spec, tmp_path, monkeypatch, capsys):
    from click.testing import CliRunner
    from sample_data import make_images
    from toy_zoo import ToyConfig, ToyModel

    from zoo_core.generation import progress_bar
    from zoo_core.hub import save_pretrained
    from zoo_core.metrics.command import eval_command

    monkeypatch.setenv("ZOO_PROGRESS_EVERY", "3600")  # --progress-every below wins over the environment
    monkeypatch.setattr("zoo_core.progress._override", [])
    with progress_bar(True, 3, "ddim 3 steps") as bar:  # what every model's generate(progress=True) uses
        for _ in bar.track(range(3)):
            pass
    only = capsys.readouterr().err.splitlines()  # nothing until the end at a 3600 s interval
    assert len(only) == 1 and re.match(r"ddim 3 steps 3/3 \(100%\) \S+ it/s done in 0s$", only[0]), only
    monkeypatch.setenv("ZOO_PROGRESS_EVERY", "0")
    with progress_bar(True, 3, "ddim 3 steps") as bar:
        for _ in bar.track(range(3)):
            pass
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("ddim 3 steps 1/3 (33%)") and lines[-1].startswith("ddim 3 steps 3/3 (100%)")
    monkeypatch.setenv("ZOO_PROGRESS_EVERY", "3600")
    saved = save_pretrained(ToyModel(ToyConfig(res=16)), tmp_path / "saved")
    make_images(tmp_path / "real", n=8, size=16, classes=(), seed=0)
    result = CliRunner().invoke(eval_command, [str(saved), "--data", str(tmp_path / "real"), "--n", "8",
                                               "--extractor", "random?dim=16", "--device", "cpu",
                                               "--out", str(tmp_path / "r.json"), "--progress-every", "0",
                                               "--batch-size", "4"])
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert re.search(r"^generated images 4/8 \(50%\) .* img/s ETA", err, re.M), err  # the flag beat the 3600 s
    assert re.search(r"^generated images 8/8 \(100%\) .* img/s done in", err, re.M), err
