"""The Run folder object: round trips of config, metrics, samples, checkpoints and final/, atomic writes."""

from __future__ import annotations

import doctest
import json
import os
import warnings

import pytest
import torch
from test_engine import engine

import zoo_core
import zoo_core.runs
from zoo_core import Run, ZooError
from zoo_core.data import DataConfig
from zoo_core.train_config import TrainConfig


def test_docstring_examples_run():
    result = doctest.testmod(zoo_core.runs)
    assert result.attempted > 0 and result.failed == 0


def test_is_a_path_and_is_exported(tmp_path):
    run = zoo_core.Run(tmp_path / "r")
    assert Run is zoo_core.runs.Run and "Run" in dir(zoo_core) and isinstance(run, os.PathLike)
    assert os.fspath(run) == str(run) == str(tmp_path / "r") and run / "x" == tmp_path / "r" / "x"
    assert run == Run(str(tmp_path / "r")) and run != Run(tmp_path / "s") and run.name == "r"
    assert not run.path.exists()  # a Run writes nothing until asked


def test_config_round_trip_is_atomic_and_checked(toy_spec, tmp_path, monkeypatch):
    run = Run(tmp_path / "r")
    assert run.read_config() is None and run.model_name() is None
    model_cfg = toy_spec.load_config_class()(width=5)
    run.write_config(toy_spec, model_cfg, TrainConfig(steps=7), DataConfig(data="builtin:shapes"))
    record = run.read_config()
    assert record["zoo_model"] == "toy" == run.model_name()
    assert record["config"]["width"] == 5 and record["train"]["steps"] == 7
    assert record["data"]["data"] == "builtin:shapes"
    assert zoo_core.load_run_config(run) == record  # the public function reads through the same object

    def full_disk(*_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError):
        run.write_config(toy_spec, model_cfg, TrainConfig(steps=99), DataConfig())
    monkeypatch.undo()
    assert run.read_config() == record  # the old record, whole
    assert sorted(p.name for p in run.path.iterdir()) == ["config.json"]  # no temporary file left

    (run / "config.json").write_text("[1, 2]")
    with pytest.raises(ZooError, match="must hold a JSON object"):
        run.read_config()
    (run / "config.json").write_text("{torn")
    with pytest.raises(ZooError, match="not valid JSON"):
        run.read_config()


def test_check_continues_refuses_another_model_and_an_empty_resume(toy_spec, tmp_path):
    run = Run(tmp_path / "r")
    run.check_continues("toy", resume=False)  # a new folder is fine
    with pytest.raises(ZooError, match="--resume: no checkpoint in .*; drop --resume"):
        run.check_continues("toy", resume=True)
    run.write_config(toy_spec, toy_spec.load_config_class()(), TrainConfig(), DataConfig())
    with pytest.raises(ZooError, match="is a toy run; choose another --out for dcgan"):
        run.check_continues("dcgan", resume=False)


def test_metrics_round_trip_skips_a_torn_line_and_appends_after_it(tmp_path):
    run = Run(tmp_path / "r")
    assert run.metrics() == []
    run.append_metrics({"step": 1, "loss": 0.5})
    run.append_metrics({"step": 2, "loss": float("inf"), "eval": {"fid": float("nan")}})
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"step": 3, "lo')  # killed in the middle of a write
    assert run.metrics() == [{"step": 1, "loss": 0.5},
                             {"step": 2, "loss": None, "eval": {"fid": None},
                              "nonfinite": {"loss": "inf", "eval.fid": "nan"}}]
    run.append_metrics({"step": 3, "loss": 0.25})  # the resumed run's record is not glued to the fragment
    assert [r["step"] for r in run.metrics()] == [1, 2, 3]
    for line in (run / "metrics.jsonl").read_text().splitlines()[:2]:
        json.loads(line)  # strict JSON: no NaN/Infinity literals


def test_sample_paths_and_grids_in_step_order(tmp_path):
    run = Run(tmp_path / "r")
    assert run.grids() == []
    for step in (20, 3, 100):
        path = run.sample_path(step)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"png")
    (run / "samples" / "notes.png").write_bytes(b"not a grid")
    assert [(s, p.name) for s, p in run.grids()] == [(3, "step_00000003.png"), (20, "step_00000020.png"),
                                                      (100, "step_00000100.png")]


def test_checkpoints_list_latest_read_and_prune(tmp_path):
    run = Run(tmp_path / "r")
    assert run.checkpoints() == [] and run.latest_checkpoint() is None
    for step in (1, 2, 3, 4):
        run.save_checkpoint(step, {"w": torch.full((2,), float(step))}, {"note": step}, keep=3)
    assert [p.name for p in run.checkpoints()] == ["step_00000002", "step_00000003", "step_00000004"]
    path, tensors, state = run.latest_checkpoint()
    assert path.name == "step_00000004" and state["step"] == 4 and state["note"] == 4
    assert torch.equal(tensors["w"], torch.full((2,), 4.0))
    tensors, state = run.read_checkpoint(3)
    assert state["note"] == 3 and torch.equal(tensors["w"], torch.full((2,), 3.0))

    (path / "tensors.safetensors").write_bytes(b"truncated")  # the newest is corrupt: the previous one is used
    with pytest.raises(ValueError, match="checksum"):
        run.read_checkpoint(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert run.latest_checkpoint()[2]["step"] == 3
    assert any("step_00000004 is corrupt" in str(w.message) for w in caught)

    removed = run.prune_checkpoints(1)
    assert [p.name for p in removed] == ["step_00000002", "step_00000003"]
    assert [p.name for p in run.checkpoints()] == ["step_00000004"]


def test_a_failed_checkpoint_write_leaves_no_partial_folder(tmp_path, monkeypatch):
    run = Run(tmp_path / "r")
    run.save_checkpoint(1, {"w": torch.ones(2)}, {})

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)  # state.json is being written when the disk fills up
    with pytest.raises(ZooError, match="could not write checkpoint 2 .*No space left.*intact"):
        run.save_checkpoint(2, {"w": torch.zeros(2)}, {})
    monkeypatch.undo()
    assert [p.name for p in run.checkpoint_dir.iterdir()] == ["step_00000001"]  # no step_2, no temporary folder
    assert run.latest_checkpoint()[0].name == "step_00000001"


def test_write_final_swaps_the_whole_folder_or_nothing(tmp_path):
    run = Run(tmp_path / "r")
    assert not run.finished

    def good(folder):
        (folder / "config.json").write_text("{}")
        (folder / "model.safetensors").write_bytes(b"v1")

    assert run.write_final(good) == run.final and run.finished

    def fails_half_way(folder):
        (folder / "config.json").write_text('{"new": true}')
        raise OSError(28, "No space left on device")

    with pytest.raises(ZooError, match="could not write the final model"):
        run.write_final(fails_half_way)
    assert (run.final / "config.json").read_text() == "{}"  # the previous final/ is untouched
    assert (run.final / "model.safetensors").read_bytes() == b"v1"
    assert sorted(p.name for p in run.path.iterdir()) == ["final"]


def test_lock_is_one_writer_and_clears_a_killed_writers_temporaries(tmp_path):
    run = Run(tmp_path / "r")
    stale = [run / ".tmp-final-4242-0a1b2c3d", run / ".tmp-config.json-4242"]
    run.path.mkdir()
    stale[0].mkdir()
    stale[1].write_text("{half")
    held = run.lock()
    try:
        assert not any(p.exists() for p in stale)
        with pytest.raises(ZooError, match="is being written by pid"):
            Run(tmp_path / "r").lock()
    finally:
        held.close()


def test_engine_returns_the_run_and_writes_through_it(toy_spec, image_dir, tmp_path):
    run = engine(toy_spec, tmp_path / "run", image_dir, steps=4, sample_every=2, checkpoint_every=2,
                 keep_checkpoints=1).run_training()
    assert isinstance(run, Run) and run.path == tmp_path / "run"
    assert [r["step"] for r in run.metrics()] == [1, 2, 3, 4]
    assert [s for s, _ in run.grids()] == [2, 4]
    assert [p.name for p in run.checkpoints()] == ["step_00000004"]
    assert run.model_name() == "toy" and run.finished
    model = zoo_core.from_pretrained(run, device="cpu")  # a Run is accepted wherever a run folder is
    assert model.generate(2, seed=0).shape == (2, 3, 8, 8)


def test_an_unfinished_run_is_named_as_such_by_from_pretrained(toy_spec, tmp_path):
    run = Run(tmp_path / "r")
    run.write_config(toy_spec, toy_spec.load_config_class()(), TrainConfig(), DataConfig())
    with pytest.raises(ZooError, match="is a training run that has not finished .no final/. and has no checkpoint"):
        zoo_core.from_pretrained(run, device="cpu")
    run.save_checkpoint(7, {"w": torch.zeros(1)}, {})  # killed at step 7: the two ways on are spelled out
    with pytest.raises(ZooError, match=r"has not finished .no final/.: resume it with `zoo train toy --out .*r "
                                       r"--resume`, or save its newest checkpoint \(step 7\) as final/ with "
                                       r"`zoo train toy --out .*r --resume --steps 7`$"):
        zoo_core.from_pretrained(run, device="cpu")
    (run / "config.json").write_text("{torn")
    with pytest.raises(ZooError, match="config.json is missing or not valid JSON"):  # the damage is named
        zoo_core.from_pretrained(run, device="cpu")


def test_a_missing_run_is_a_local_path_never_a_hub_repo_id(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ZooError, match="no such run folder me/model"):
        zoo_core.from_pretrained(Run("me/model"), device="cpu")  # "me/model" as a string would be a repo id


def test_damaged_metrics_lines_cost_only_themselves(tmp_path):
    """A run folder may come from elsewhere: lines that are not step records are skipped, never a traceback."""
    from zoo_core.report import load_run

    run = Run(tmp_path / "r")
    run.append_metrics({"step": 1, "loss": 0.5})
    with open(run / "metrics.jsonl", "ab") as f:
        f.write(b'[1, 2]\n{"step": "x"}\n{"step": true}\n' + b"[" * 100_000 + b"\n\xff\xfe\n")
        f.write(b'{"step": 2, "loss": 0.25, "warnings": 5}\n{"event": "health", "step": 3, "kind": ["k"]}\n')
    assert [r["step"] for r in run.metrics()] == [1, 2, 3]
    data = load_run(run.path)
    assert data.series["loss"] == [(1, 0.5), (2, 0.25)] and [e.step for e in data.events] == [3]
