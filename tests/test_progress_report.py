"""report.html and curves.png: written into the run folder during training, self-contained, every
sample grid shown; `zoo report` overlays several runs; bad input is one line."""

from __future__ import annotations

import io
import re

import pytest
from click.testing import CliRunner
from rich.console import Console

from zoo_core.config import layer
from zoo_core.data import DataConfig
from zoo_core.engine import Engine
from zoo_core.errors import ZooError
from zoo_core.plot import smooth
from zoo_core.report import load_run, spaced, write_report
from zoo_core.train_config import TrainConfig


def _run(toy_spec, image_dir, out, **values):
    from toy_zoo import ToyConfig

    values = {"data": str(image_dir), "out": str(out), "device": "cpu", "progress": False, "steps": 6,
              "sample_every": 2, "checkpoint_every": 100, **values}
    cfgs = layer({"model": ToyConfig, "data": DataConfig, "train": TrainConfig},
                 [("defaults", ToyConfig.TRAIN_DEFAULTS), ("test", values)])
    return Engine(toy_spec, cfgs["model"], cfgs["train"], cfgs["data"],
                  console=Console(file=io.StringIO())).run_training()


def test_smoothing_is_a_bias_corrected_ema():
    assert smooth([4.0, 4.0, 4.0]) == pytest.approx([4.0, 4.0, 4.0])
    assert smooth([0.0, 10.0], weight=0.5) == pytest.approx([0.0, 20.0 / 3])  # (0.5*10) / (1 - 0.5**2)


def test_long_runs_show_evenly_spaced_grids_first_and_last_kept():
    assert spaced(list(range(5)), 10) == [0, 1, 2, 3, 4]
    assert spaced(list(range(601)), 4) == [0, 200, 400, 600]


def test_run_folder_gets_a_self_contained_report_with_every_grid(toy_spec, image_dir, tmp_path):
    from PIL import Image

    out = _run(toy_spec, image_dir, tmp_path / "a", fail_at=2)
    page = (out / "report.html").read_text()
    grids = sorted((out / "samples").glob("step_*.png"))
    assert len(grids) == 3
    assert page.count("<img src='data:image/png;base64,") == len(grids) + 1  # + the curves
    assert all(f"step {int(p.stem[5:])}</figcaption>" in page for p in grids)
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:|//)""", page)  # loads nothing from the network
    assert "non-finite loss" in page and f"zoo train toy --out {out} --resume" in page
    with Image.open(out / "curves.png") as im:
        assert im.width >= 360 and im.getextrema() != ((255, 255), (255, 255), (255, 255))
    run = load_run(out)
    assert [s for s, _ in run.series["loss"]] == list(range(1, 7)) and run.events


def test_zoo_report_compares_runs_and_rejects_bad_input(toy_spec, image_dir, tmp_path):
    from zoo_core.cli import cli

    a = _run(toy_spec, image_dir, tmp_path / "a")
    b = _run(toy_spec, image_dir, tmp_path / "b", lr=0.01)
    res = CliRunner().invoke(cli, ["report", str(a), str(b), "--out", str(tmp_path / "cmp.html")])
    assert res.exit_code == 0, res.output
    page = (tmp_path / "cmp.html").read_text()
    assert "zoo runs: a, b" in page and page.count("<h2>") == 3  # curves + one section per run
    assert (tmp_path / "cmp-curves.png").is_file()
    (a / "report.html").unlink()
    assert CliRunner().invoke(cli, ["report", str(a)]).exit_code == 0 and (a / "report.html").is_file()
    with pytest.raises(ZooError, match="needs --out FILE.html"):
        write_report([a, b])
    with pytest.raises(ZooError, match="not a zoo run folder"):
        write_report([tmp_path])
    with pytest.raises(ZooError, match="is not a run folder"):
        write_report([tmp_path / "missing"])
