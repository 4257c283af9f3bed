"""The quality benchmark's split runs (plugins/zoo-ddpm/benchmarks/quality_budgets.py): models trained by one
run (``--keep``) and scored by another (``--load``) give the samples the first run scored."""

import json
import sys
from pathlib import Path

import pytest
from PIL import Image
from safetensors.torch import load_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import quality_budgets  # noqa: E402

TINY = "--channel-mults 1,2 --num-res-blocks 1 --channels 32 --attn-res 32"


def gray_folder(root: Path, n: int = 12) -> Path:
    root.mkdir()
    for i in range(n):
        Image.new("RGB", (8, 8), (20 * i, 20 * i, 20 * i)).save(root / f"{i:02d}.png")
    return root


def run(tmp_path: Path, *extra: str) -> list[dict]:
    out = tmp_path / f"run{len(list(tmp_path.glob('run*')))}.json"
    quality_budgets.main(["--data", str(tmp_path / "gray"), "--res", "8", "--budgets", "2", "--batch", "4",
                          "--n", "6", "--sweep", "all", "--pixel-fd", "--device", "cpu", "--threads", "1",
                          "--md", str(tmp_path / "report.md"), "--json", str(out), "--zoo-args", TINY, *extra])
    return json.loads(out.read_text())["rows"]


def test_keep_saves_models_that_load_scores_again(tmp_path):
    gray_folder(tmp_path / "gray")
    keep = tmp_path / "keep"
    first = run(tmp_path, "--grid", "ddim:3", "--curve", "ddim:3", "--keep", str(keep))
    assert {p.name for p in keep.glob("*_model")} == {"zoo_2_model", "diffusers_2_model"}
    again = run(tmp_path, "--grid", "ddim:3 dpm++:2", "--curve", "ddim:3", "--load", str(keep),
                "--sides", "diffusers", "--keep", str(tmp_path / "again"))
    assert [(r["side"], r["sampler"], r["steps"]) for r in again[1:]] == [
        ("diffusers recipe", "ddim", 3), ("diffusers recipe", "dpm++", 2)]
    before = load_file(str(keep / "diffusers_2_ddim3.safetensors"))["images"]
    after = load_file(str(tmp_path / "again" / "diffusers_2_ddim3.safetensors"))["images"]
    assert before.shape == (6, 3, 8, 8) and (before == after).all()  # the same model, seed and sampler
    ref = next(r for r in first if r["side"] == "diffusers recipe")
    assert again[1]["fid"] == pytest.approx(ref["fid"])


def test_load_names_a_missing_model(tmp_path):
    gray_folder(tmp_path / "gray")
    with pytest.raises(SystemExit, match="no saved model"):
        run(tmp_path, "--load", str(tmp_path / "nothing"))


def test_merge_makes_one_report_of_split_runs(tmp_path):
    """One side per run (e.g. one core each), then --merge: one table with the floor once, both sides' rows, a
    rerun's record replacing the earlier one of the same point, and the plots."""
    gray_folder(tmp_path / "gray")
    zoo = run(tmp_path, "--grid", "ddim:2,3", "--curve", "ddim:3", "--sides", "zoo")
    ref = run(tmp_path, "--grid", "ddim:3", "--curve", "ddim:3", "--sides", "diffusers")
    log = tmp_path / "log.txt"  # a log: print lines around the records, a later record of a point wins
    log.write_text("machine: cpu\n" + json.dumps({**zoo[2], "fid": -1.0}) + "\nwrote report\n")
    md = tmp_path / "merged" / "report.md"
    quality_budgets.main(["--merge", *map(str, sorted(tmp_path.glob("run*.json"))), str(log), "--md", str(md),
                          "--curve", "ddim:3", "--n", "6", "--batch", "4", "--device", "cpu", "--threads", "1"])
    text = md.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| zoo defaults | 2 |")
            or line.startswith("| diffusers recipe | 2 |")]
    assert [r.split(" | ")[2:4] for r in rows] == [["ddim", "2"], ["ddim", "3"], ["ddim", "3"]]
    assert "| -1.0 |" in rows[1] and f"{ref[1]['fid']:.1f}" in rows[2]
    assert text.count("real vs real") == 1 and (tmp_path / "merged" / "report_sampling_steps.png").is_file()
    with pytest.raises(SystemExit, match="no records"):
        quality_budgets.main(["--merge", str(log), "--md", str(md), "--device", "cpu", "--threads", "1"])


def test_merge_reports_the_runs_own_settings_and_refuses_mixed_ones(tmp_path):
    """The report of merged runs names their data, size and sample count, not this command's defaults;
    runs scored with different sample counts are not one scale, so they are refused."""
    gray_folder(tmp_path / "gray")
    run(tmp_path, "--grid", "ddim:3", "--curve", "ddim:3", "--sides", "zoo")
    first = tmp_path / "run0.json"
    header = json.loads(first.read_text())
    assert (header["data"], header["res"], header["batch"], header["n"]) == (str(tmp_path / "gray"), 8, 4, 6)
    md = tmp_path / "merged" / "report.md"
    quality_budgets.main(["--merge", str(first), "--md", str(md), "--curve", "ddim:3", "--device", "cpu",
                          "--threads", "1"])  # no --data, --res, --n: the defaults would say builtin shapes
    text = md.read_text()
    assert f"Data {tmp_path / 'gray'}, 8 px, batch 4, 6 samples per score" in text and "builtin" not in text
    assert "| diffusers recipe |  | not scored |" in text and "nan" not in text  # a side this run did not score
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**header, "n": 2000}))
    with pytest.raises(SystemExit, match="run0.json and .*other.json were run with different n \\(6 vs 2000\\)"):
        quality_budgets.main(["--merge", str(first), str(other), "--md", str(md), "--device", "cpu", "--threads", "1"])


def test_sides_are_checked_so_a_typo_does_not_train_nothing():
    assert quality_budgets.sides_arg("both") == quality_budgets.sides_arg("zoo,diffusers") == ["zoo", "diffusers"]
    assert quality_budgets.sides_arg("diffusers") == ["diffusers"]
    for bad in ("bath", "zoo,ref", ""):
        with pytest.raises(Exception, match="expected zoo, diffusers or both"):
            quality_budgets.sides_arg(bad)


def test_a_folder_smaller_than_n_is_the_whole_reference_and_its_halves_the_floor(tmp_path):
    """--n 2000 on a 1,797-image folder: samples are scored against every image once (repeats would shrink
    the reference's spread) and the floor compares two halves, which the report says."""
    import quality_ddpm

    gray_folder(tmp_path / "gray", n=12)
    real = quality_ddpm.real_images(str(tmp_path / "gray"), 8, 20, seed=1)
    assert len(real) == 12 and len({tuple(x.flatten().tolist()) for x in real}) == 12  # each image once
    rows = run(tmp_path, "--grid", "ddim:2", "--curve", "ddim:2", "--sides", "zoo", "--n", "20")
    assert (rows[0]["n_floor"], rows[0]["n_real"]) == (6, 12) and rows[0]["fid"] > 0
    assert len(rows) == 2 and rows[1]["fid"] > 0
    text = (tmp_path / "report.md").read_text()
    assert "against all 12 reference real images" in text and "real vs real (two halves of 6 images" in text


def test_the_halves_floor_reuses_the_features_the_scores_extracted(tmp_path):
    """With a feature scorer the floor costs no second pass: it is the two halves of the real features
    already extracted (what ``--real-stats`` caches), scored after the samples for that reason."""
    import argparse

    import quality_ddpm
    import quality_metrics
    import torch

    data = gray_folder(tmp_path / "gray", n=12)
    held_out = quality_ddpm.real_images(str(data), 8, 40, seed=1)
    scorer = quality_metrics.Scorer(str(data), 8, 40, None, "cpu", seed=1, extractor="random")
    scorer(torch.zeros(4, 3, 8, 8))
    args = argparse.Namespace(n=40, data=str(data), res=8, seed=0)
    floor = quality_budgets.floor_scores(args, scorer, held_out)
    expected = quality_metrics.floor_from_features(scorer.real_features())
    assert (floor["n_floor"], floor["n_real"]) == (6, 12)
    assert floor["fid"] == pytest.approx(expected["fid"]) and floor["kid"] == pytest.approx(expected["kid"])
