"""The quality benchmarks' scorer (benchmarks/quality_metrics.py): the ``--real-stats`` cache gives the
scores a fresh pass gives, refuses a file made for other data, and the real-vs-real floor comes from
features already extracted."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import quality_metrics  # noqa: E402


def folder(root: Path, n: int = 24) -> Path:
    root.mkdir()
    g = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(g.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(root / f"{i:02d}.png")
    return root


def scorer(data: Path, stats: Path, res: int = 8, n: int = 24, held_out=None) -> quality_metrics.Scorer:
    return quality_metrics.Scorer(str(data), res, n, None, "cpu", seed=1, stats=str(stats), extractor="random",
                                  held_out=held_out)


def test_real_stats_cache_is_written_once_and_scores_as_a_fresh_pass(tmp_path, capsys):
    data, stats = folder(tmp_path / "real"), tmp_path / "real.safetensors"
    fake = torch.rand(16, 3, 8, 8) * 2 - 1
    first = scorer(data, stats)
    assert first.real_features() is None  # nothing extracted yet
    a = first(fake)
    assert stats.is_file() and "wrote the real statistics" in capsys.readouterr().err
    assert first.real_features().shape == (24, 64)
    stamp = stats.stat().st_mtime_ns
    second = scorer(data, stats)
    assert second.real_features().shape == (24, 64)  # read from the file, before any score
    b = second(fake)
    assert stats.stat().st_mtime_ns == stamp  # read, not written again
    assert b["fid"] == pytest.approx(a["fid"]) and b["kid"] == pytest.approx(a["kid"])
    assert first.name == "FID (random features)" and len(first.cells(a)) == 2


def test_real_stats_made_for_other_data_res_or_count_are_refused(tmp_path):
    data, stats = folder(tmp_path / "real"), tmp_path / "real.safetensors"
    scorer(data, stats)(torch.zeros(4, 3, 8, 8))
    other = folder(tmp_path / "other")
    with pytest.raises(SystemExit, match="computed from .*real, this run scores against .*other"):
        scorer(other, stats)
    with pytest.raises(SystemExit, match="computed at 8 px, this run scores at 16 px"):
        scorer(data, stats, res=16)
    with pytest.raises(SystemExit, match="holds 24 real images, this run scores against 10"):
        scorer(data, stats, n=10)
    with pytest.raises(SystemExit, match="holds 24 real images, this run scores against 2000"):
        scorer(data, stats, n=2000)  # a smaller run's file is not a bigger run's reference
    scorer(data, stats, n=2000, held_out=torch.zeros(24, 3, 8, 8))  # --n above the folder: all 24, as cached


def test_floor_from_features_matches_the_closed_form_of_two_gaussians():
    """Halves drawn from N(0, I) and N(mu, I): FID -> |mu|^2 (equal covariances), KID -> 0 when mu = 0."""
    g = torch.Generator().manual_seed(0)
    n, d = 20000, 4
    mu = torch.tensor([1.0, -2.0, 0.5, 0.0])
    pool = torch.cat([torch.randn(n, d, generator=g), torch.randn(n, d, generator=g) + mu])
    out = quality_metrics.floor_from_features(pool, subset_size=500)
    assert out["n_floor"] == n and out["fid"] == pytest.approx(float(mu @ mu), rel=0.03)
    same = quality_metrics.floor_from_features(torch.randn(2 * n, d, generator=g), subset_size=500)
    assert same["fid"] < 0.01 and abs(same["kid"]) < 5 * same["kid_std"] + 1e-3 and out["kid"] > 50 * same["kid_std"]


def test_a_real_stats_file_that_is_not_one_is_a_one_line_error(tmp_path):
    data, stats = folder(tmp_path / "real"), tmp_path / "real.safetensors"
    stats.write_text("not safetensors")
    with pytest.raises(SystemExit, match="--real-stats: .*not a safetensors statistics file.*delete it"):
        scorer(data, stats)
