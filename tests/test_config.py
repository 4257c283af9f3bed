"""Config layering (defaults < train defaults < preset < file < flags) and clear errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from zoo_core.cli import cli
from zoo_core.config import build, layer, read_file
from zoo_core.data import DataConfig
from zoo_core.errors import ZooError
from zoo_core.train_config import TrainConfig


def test_layers_later_wins(tmp_path):
    from toy_zoo import ToyConfig

    classes = {"model": ToyConfig, "data": DataConfig, "train": TrainConfig}
    f = tmp_path / "c.toml"
    f.write_text('width = 7\n[train]\nsteps = 30\nlr = 0.5\n')
    cfgs = layer(classes, [("defaults", ToyConfig.TRAIN_DEFAULTS), ("preset", ToyConfig.PRESETS["wide"]),
                           ("file", read_file(f)), ("flags", {"lr": 0.25})])
    assert cfgs["model"].width == 7  # file over preset
    assert cfgs["train"].lr == 0.25  # flag over file over preset
    assert cfgs["train"].steps == 30
    assert cfgs["train"].batch_size == 8  # model's training default over the engine default
    assert cfgs["model"].res == 8  # dataclass default


def test_json_file_and_type_errors(tmp_path):
    from toy_zoo import ToyConfig

    f = tmp_path / "c.json"
    f.write_text(json.dumps({"width": "wide"}))
    with pytest.raises(ZooError, match="--width in .*expected an integer"):
        layer({"model": ToyConfig}, [(str(f), read_file(f))])
    f.write_text(json.dumps({"colour": 3}))
    with pytest.raises(ZooError, match="unknown option 'colour'"):
        layer({"model": ToyConfig}, [(str(f), read_file(f))])
    f.write_text("{not json")
    with pytest.raises(ZooError, match="not valid JSON"):
        read_file(f)


def test_ranges_and_post_init():
    from toy_zoo import ToyConfig

    with pytest.raises(ZooError, match="--width.*must be >= 1"):
        build(ToyConfig, {"width": 0})
    with pytest.raises(ZooError, match="must be even"):
        build(ToyConfig, {"res": 9})
    assert build(TrainConfig, {"grad_clip": "none"}).grad_clip is None
    assert build(DataConfig, {"flip": "true"}).flip is True


def test_cli_bad_values_exit_2(toy_spec, tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["train", "toy", "--steps", "0", "--data", "builtin:shapes"], standalone_mode=False)
    assert isinstance(res.exception, ZooError) and "--steps" in str(res.exception)
    res = runner.invoke(cli, ["train", "toy", "--steps", "abc"])
    assert res.exit_code == 2 and "abc" in res.output
    f = tmp_path / "bad.toml"
    f.write_text("unknown_thing = 1\n")
    res = runner.invoke(cli, ["train", "toy", "--config", str(f)], standalone_mode=False)
    assert isinstance(res.exception, ZooError) and "unknown_thing" in str(res.exception)
    res = runner.invoke(cli, ["train", "toy", "--preset", "nope"])
    assert res.exit_code == 2
