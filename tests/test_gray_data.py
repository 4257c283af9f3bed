"""Gray data get a gray model (issue 20): a folder of gray images, even stored as RGB PNGs, trains a
1-channel model unless the user set ``--in-channels``; the choice survives resume, and sampling and
evaluation work on the 1-channel model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from zoo_core import training
from zoo_core.cli import cli
from zoo_core.data import DataConfig, open_source
from zoo_core.gray import is_gray_image, probe_gray

TINY_DDPM = ["--res", "8", "--channels", "8", "--channel-mults", "1,2", "--num-res-blocks", "1", "--attn-res", "4",
             "--timesteps", "20", "--batch-size", "4", "--no-progress", "--device", "cpu", "--sample-every", "100",
             "--sample-n", "4", "--checkpoint-every", "2"]
TINY_DCGAN = {"res": 16, "channels": 4, "z_dim": 8, "batch_size": 4, "progress": False, "device": "cpu"}
PROBE_LINE = "gray data"


def gray_folder(root, n: int = 8, ext: str = ".png", colour_at: int | None = None):
    """``n`` random gray 16 px images saved as RGB files; image ``colour_at`` (if any) gets a red dot."""
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        rgb = Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8)).convert("RGB")
        if i == colour_at:
            rgb.putpixel((3, 3), (255, 0, 0))
        rgb.save(root / f"{i:03d}{ext}")
    return root


def colour_folder(root, n: int = 8):
    rng = np.random.default_rng(1)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(root / f"{i:03d}.png")
    return root


def probe(folder) -> tuple[bool, int]:
    return probe_gray(open_source(DataConfig(data=str(folder)), 16))


def test_probe_reads_gray_stored_as_rgb_png_and_jpeg(tmp_path):
    assert probe(gray_folder(tmp_path / "png")) == (True, 8)
    assert probe(gray_folder(tmp_path / "jpg", ext=".jpg"))[0]  # JPEG chroma rounding is within tolerance


def test_probe_finds_one_coloured_pixel_and_colour_data(tmp_path):
    assert probe(gray_folder(tmp_path / "dot", colour_at=5)) == (False, 6)  # stops at the first colour image
    assert probe(colour_folder(tmp_path / "colour")) == (False, 1)
    assert not probe_gray(open_source(DataConfig(data="builtin:shapes"), 16))[0]


def test_probe_trusts_gray_headers_and_checks_at_most_limit_images(tmp_path):
    (tmp_path / "l").mkdir()
    for i in range(3):
        Image.new("L", (16, 16), 40 * i).save(tmp_path / "l" / f"{i}.png")
    assert probe(tmp_path / "l") == (True, 3)  # mode L in every header: no pixel decoded
    source = open_source(DataConfig(data=str(gray_folder(tmp_path / "many", n=10))), 16)
    assert probe_gray(source, limit=4) == (True, 4)


def test_is_gray_image_composites_alpha_like_training():
    assert is_gray_image(Image.new("RGBA", (4, 4), (255, 0, 0, 0)))  # fully transparent red is white paper
    assert not is_gray_image(Image.new("RGBA", (4, 4), (255, 0, 0, 255)))
    assert is_gray_image(Image.new("RGB", (4, 4), (10, 12, 11)))
    assert not is_gray_image(Image.new("RGB", (4, 4), (10, 13, 10)))


def _train(args):
    res = CliRunner().invoke(cli, ["train", "ddpm", *TINY_DDPM, *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def test_gray_rgb_folder_trains_a_gray_model_that_resumes_samples_and_evaluates(tmp_path):
    data, run = gray_folder(tmp_path / "gray"), tmp_path / "run"
    out = _train(["--data", str(data), "--out", str(run), "--steps", "2"])
    assert PROBE_LINE in out and "--in-channels 3" in out
    assert json.loads((run / "config.json").read_text())["config"]["in_channels"] == 1
    assert Image.open(run / "final" / "samples.png").mode == "L"
    # resume reads in_channels from the run's config.json: no second probe, the same architecture
    out = _train(["--out", str(run), "--steps", "4", "--resume"])
    assert PROBE_LINE not in out
    assert json.loads((run / "config.json").read_text())["config"]["in_channels"] == 1
    assert '"step": 4' in (run / "metrics.jsonl").read_text().splitlines()[-1]
    runner = CliRunner()
    res = runner.invoke(cli, ["sample", str(run), "--n", "2", "--steps", "5", "--out", str(tmp_path / "pngs")],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert [Image.open(p).mode for p in sorted((tmp_path / "pngs").glob("*.png"))] == ["L", "L"]
    for real in (str(data), "builtin:shapes"):  # FID of a gray model against gray and against colour data
        res = runner.invoke(cli, ["eval", str(run), "--data", real, "--n", "4", "--extractor", "random",
                                  "--out", str(tmp_path / f"eval{len(real)}.json")], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        assert json.loads((tmp_path / f"eval{len(real)}.json").read_text())["metrics"]["fid"] >= 0


def _channels(tmp_path, data, **options) -> int:
    eng = training.engine("dcgan", data=str(data), out=str(tmp_path / "run"), **TINY_DCGAN, **options)
    eng.setup()
    return eng.model_cfg.in_channels


def test_colour_data_and_an_explicit_in_channels_keep_rgb(tmp_path):
    gray = gray_folder(tmp_path / "gray")
    assert _channels(tmp_path, gray) == 1  # every family, not only diffusion
    assert _channels(tmp_path, colour_folder(tmp_path / "colour")) == 3
    assert _channels(tmp_path, gray, in_channels=3) == 3
    cfg = tmp_path / "c.toml"
    cfg.write_text("[model]\nin_channels = 3\n")
    eng = training.engine("dcgan", config=str(cfg), data=str(gray), **TINY_DCGAN)
    eng.setup()
    assert eng.model_cfg.in_channels == 3


def test_an_engine_built_by_hand_keeps_its_model_config(tmp_path):
    from zoo_core.engine import Engine
    from zoo_core.plugins import registry
    from zoo_core.train_config import TrainConfig

    spec = registry().model("dcgan")
    cfg = spec.load_config_class()(res=16, channels=4, z_dim=8)
    eng = Engine(spec, cfg, TrainConfig(device="cpu", batch_size=4, progress=False),
                 DataConfig(data=str(gray_folder(tmp_path / "gray"))))
    eng.setup(out=tmp_path / "run")
    assert eng.model_cfg.in_channels == 3


@pytest.mark.parametrize("flag", ["--in-channels", "--config"])
def test_explicit_rgb_on_the_command_line_is_kept(tmp_path, flag):
    data, run = gray_folder(tmp_path / "gray"), tmp_path / "run"
    if flag == "--config":
        (tmp_path / "c.toml").write_text("[model]\nin_channels = 3\n")
        args = ["--config", str(tmp_path / "c.toml")]
    else:
        args = ["--in-channels", "3"]
    out = _train(["--data", str(data), "--out", str(run), "--steps", "1", *args])
    assert PROBE_LINE not in out
    assert json.loads((run / "config.json").read_text())["config"]["in_channels"] == 3
    assert Image.open(run / "final" / "samples.png").mode == "RGB"
