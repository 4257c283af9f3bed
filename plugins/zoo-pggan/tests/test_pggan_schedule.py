"""The growth schedule as a pure function of images shown, and config validation."""

import pytest
from zoo_pggan.config import PGGANConfig
from zoo_pggan.schedule import GrowthSchedule

from zoo_core.config import build
from zoo_core.errors import ZooError


def test_growth_from_4_to_32():
    s = GrowthSchedule(start_res=4, res=32, fade_images=100, stable_images=200)
    # 4: stable [0, 200); 8: fade [200, 300) stable [300, 500); 16: fade [500, 600) ...; 32: fade [800, 900)
    expected = {
        0: (4, "stable", 1.0), 199: (4, "stable", 1.0),
        200: (8, "fade", 0.0), 250: (8, "fade", 0.5), 299: (8, "fade", 0.99), 300: (8, "stable", 1.0),
        525: (16, "fade", 0.25), 799: (16, "stable", 1.0),
        800: (32, "fade", 0.0), 875: (32, "fade", 0.75), 900: (32, "stable", 1.0), 10**9: (32, "stable", 1.0),
    }
    for images, (res, phase, alpha) in expected.items():
        st = s.at(images)
        assert (st.res, st.phase) == (res, phase), images
        assert st.alpha == pytest.approx(alpha), images
        assert st.level == {4: 0, 8: 1, 16: 2, 32: 3}[res]
    assert s.total_growth_images() == 900
    assert [(r, p) for r, p, _, _ in s.table()] == [
        (4, "stable"), (8, "fade"), (8, "stable"), (16, "fade"), (16, "stable"), (32, "fade"), (32, "stable")]
    assert s.table()[-1][3] is None


def test_start_res_and_no_fade():
    s = GrowthSchedule(start_res=8, res=16, fade_images=0, stable_images=10)
    assert (s.at(0).res, s.at(9).res, s.at(10).res) == (8, 8, 16)
    assert s.at(10).phase == "stable" and s.at(10).alpha == 1.0
    only = GrowthSchedule(start_res=16, res=16, fade_images=5, stable_images=5)
    assert only.at(0).res == 16 and only.at(10**6).res == 16 and len(only.phases()) == 1
    with pytest.raises(ValueError):
        s.at(-1)


def test_config_checks_res():
    assert PGGANConfig(res=8).resolutions == [4, 8]
    for bad in (12, 48, 100):
        with pytest.raises(ZooError, match="power of two"):
            build(PGGANConfig, {"res": bad})
    with pytest.raises(ZooError, match=">= 8"):
        build(PGGANConfig, {"res": 4})
    with pytest.raises(ValueError, match="power of two >= 8"):
        PGGANConfig(res=4)  # also without the CLI's bounds check
    with pytest.raises(ZooError, match="start-res"):
        build(PGGANConfig, {"res": 16, "start_res": 32})
    with pytest.raises(ZooError, match="batch-sizes"):
        build(PGGANConfig, {"res": 16, "batch_sizes": "16,8"})
    with pytest.raises(ZooError, match="min-channels"):
        build(PGGANConfig, {"min_channels": 64, "max_channels": 32})


def test_paper_defaults_and_channel_widths():
    cfg = PGGANConfig(res=1024)
    assert (cfg.loss, cfg.critic_steps, cfg.drift_weight, cfg.beta1, cfg.beta2) == ("wgan-gp", 1, 0.001, 0.0, 0.99)
    assert cfg.channels() == [512, 512, 512, 512, 256, 128, 64, 32, 16]  # table 2 of the paper
    assert PGGANConfig.TRAIN_DEFAULTS["lr"] == 0.001


def test_issue_flag_names_are_accepted():
    """`--latent-dim` and `--channels` (the issue's names) set z_dim and max_channels."""
    import json

    from click.testing import CliRunner

    from zoo_core.cli import cli

    runner = CliRunner()
    with runner.isolated_filesystem():
        res = runner.invoke(cli, ["train", "pggan", "--data", "builtin:shapes", "--res", "8", "--latent-dim", "16",
                                  "--channels", "8", "--min-channels", "4", "--steps", "1", "--batch-size", "4", "--out", "run",
                                  "--no-progress", "--device", "cpu"], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        with open("run/config.json") as f:
            cfg = json.load(f)["config"]
    assert cfg["z_dim"] == 16 and cfg["max_channels"] == 8
