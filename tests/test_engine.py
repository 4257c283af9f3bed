"""The training engine on the toy family: outputs, accumulation, resume, corruption, health."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file

from zoo_core import checkpoint as ckpt
from zoo_core import training
from zoo_core.engine import lr_factor
from zoo_core.errors import ZooError
from zoo_core.train_config import TrainConfig


def engine(spec, out, data, callbacks=None, **values):
    """The toy engine through the public API (options layered exactly as ``zoo train`` does)."""
    values = {"progress": False, "device": "cpu", **values}
    return training.engine(spec, data=str(data), out=str(out), callbacks=callbacks, **values)


def weights(run):
    return load_file(str(run / "final" / "model.safetensors"))


def test_run_writes_logs_samples_checkpoints_and_final(toy_spec, image_dir, tmp_path):
    from zoo_core.hub import from_pretrained

    out = engine(toy_spec, tmp_path / "run", image_dir, steps=6, sample_every=3, checkpoint_every=3,
                 keep_checkpoints=1).run_training()
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines() if '"event"' not in x]
    assert [x["step"] for x in lines] == [1, 2, 3, 4, 5, 6]
    assert all({"loss", "lr", "grad_norm_net", "img_per_s"} <= set(x) for x in lines)
    assert lines[-1]["loss"] < lines[0]["loss"]
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["step_00000003.png", "step_00000006.png"]
    assert [p.name for p in ckpt.list_checkpoints(out / "checkpoints")] == ["step_00000006"]
    assert {"config.json", "model.safetensors", "README.md", "samples.png"} <= {p.name for p in (out / "final").iterdir()}
    record = json.loads((out / "config.json").read_text())
    assert record["zoo_model"] == "toy" and record["train"]["steps"] == 6
    model = from_pretrained(out, device="cpu")
    assert model.generate(3, seed=1).shape == (3, 3, 8, 8)
    assert torch.equal(model.generate(3, seed=1), model.generate(3, seed=1))


def test_gradient_accumulation_matches_one_big_batch(toy_spec, image_dir, tmp_path):
    common = dict(steps=3, batch_size=8, noise=0.0, sgd=True, lr=0.5, ema=False)
    a = engine(toy_spec, tmp_path / "a", image_dir, grad_accum=1, **common).run_training()
    b = engine(toy_spec, tmp_path / "b", image_dir, grad_accum=4, **common).run_training()
    wa, wb = weights(a), weights(b)
    assert any(not torch.equal(wa[k], load_file(str(a / "checkpoints" / "step_00000003" / "tensors.safetensors"))
                               [f"module.net.{k}"] * 0) for k in wa)  # weights are non-trivial
    for k in wa:
        torch.testing.assert_close(wa[k], wb[k], rtol=1e-5, atol=1e-6)


def test_interrupted_and_resumed_equals_uninterrupted(toy_spec, image_dir, tmp_path):
    full = engine(toy_spec, tmp_path / "full", image_dir, steps=8, checkpoint_every=100).run_training()

    def stop_at_3(e):
        if e.run.step == 3:
            e.run.stop = True  # what Ctrl-C / SIGTERM does

    part = tmp_path / "part"
    engine(toy_spec, part, image_dir, steps=8, checkpoint_every=100, callbacks=[stop_at_3]).run_training()
    assert not (part / "final").exists()
    assert [p.name for p in ckpt.list_checkpoints(part / "checkpoints")] == ["step_00000003"]
    engine(toy_spec, part, image_dir, steps=8, checkpoint_every=100, resume=True).run_training()
    wf, wp = weights(full), weights(part)
    assert wf.keys() == wp.keys()
    for k in wf:
        torch.testing.assert_close(wf[k], wp[k], rtol=0, atol=1e-6)


def test_corrupt_newest_checkpoint_falls_back(toy_spec, image_dir, tmp_path):
    out = tmp_path / "run"
    engine(toy_spec, out, image_dir, steps=4, checkpoint_every=2).run_training()
    newest = out / "checkpoints" / "step_00000004" / "tensors.safetensors"
    newest.write_bytes(newest.read_bytes()[:100])  # truncated by a crash mid-copy
    (out / "checkpoints" / ".tmp-step_00000005-1").mkdir()  # an unfinished write is ignored
    e = engine(toy_spec, out, image_dir, steps=5, checkpoint_every=2)
    with pytest.warns(UserWarning, match="step_00000004 is corrupt"):
        e.run_training()
    assert e.run.step == 5
    lines = [json.loads(x)["step"] for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert lines[-2:] == [3, 4] or lines[-1] == 5  # steps 3.. were trained again after step 2


def test_a_checkpoint_whose_state_names_another_step_is_skipped(tmp_path):
    """state.json and its folder name say the same step; an edited or swapped state.json is not resumed from."""
    root = tmp_path / "checkpoints"
    for step in (2, 4):
        ckpt.save(root, step, {"w": torch.full((2,), float(step))}, {"note": "x"})
    state = root / "step_00000004" / "state.json"
    state.write_text(state.read_text().replace('"step": 4', '"step": 1000000000000000'))
    with pytest.warns(UserWarning, match="step_00000004 is corrupt.*does not hold step 4"):
        path, tensors, got = ckpt.latest(root)
    assert path.name == "step_00000002" and got["step"] == 2 and tensors["w"].tolist() == [2.0, 2.0]


@pytest.mark.parametrize("key,value", [("position", "x"), ("position", -1), ("lr_scale", float("nan")),
                                       ("lr_scale", 0), ("ema_updates", True)])
def test_a_checkpoint_with_invalid_counters_is_skipped(tmp_path, key, value):
    """The checksum covers the tensors, not state.json's counters: an edited counter is checked on read."""
    root = tmp_path / "checkpoints"
    for step in (2, 4):
        ckpt.save(root, step, {"w": torch.full((2,), float(step))}, {"position": step, "lr_scale": 1.0})
    state = root / "step_00000004" / "state.json"
    state.write_text(json.dumps({**json.loads(state.read_text()), key: value}))
    with pytest.warns(UserWarning, match=f"step_00000004 is corrupt.*invalid {key}"):
        path, _, _ = ckpt.latest(root)
    assert path.name == "step_00000002"


def test_a_checkpoint_that_does_not_restore_is_one_line_naming_it(toy_spec, image_dir, tmp_path):
    out = tmp_path / "run"
    engine(toy_spec, out, image_dir, steps=2, checkpoint_every=2).run_training()
    state = out / "checkpoints" / "step_00000002" / "state.json"
    record = json.loads(state.read_text())
    record["optimizers"] = [1]  # an edited state.json: its checksum covers the tensors only
    state.write_text(json.dumps(record))
    with pytest.raises(ZooError, match=r"checkpoint .*step_00000002 cannot be restored \(TypeError: .*delete that "
                                       r"folder to resume from the checkpoint before it, or train into a new --out"):
        engine(toy_spec, out, image_dir, steps=3, resume=True).run_training()


def test_resume_flag_without_checkpoint_is_an_error(toy_spec, image_dir, tmp_path):
    with pytest.raises(ZooError, match="no checkpoint"):
        engine(toy_spec, tmp_path / "none", image_dir, steps=2, resume=True).run_training()


def test_nonfinite_loss_is_skipped_then_abort_keeps_checkpoint(toy_spec, image_dir, tmp_path):
    e = engine(toy_spec, tmp_path / "skip", image_dir, steps=4, fail_at=1)
    e.run_training()
    lines = [json.loads(x) for x in (tmp_path / "skip" / "metrics.jsonl").read_text().splitlines()]
    assert any(x.get("event") == "health" and "non-finite" in x["message"] for x in lines)
    for v in weights(tmp_path / "skip").values():
        assert torch.isfinite(v).all()
    with pytest.raises(ZooError, match="non-finite.*checkpoint kept"):
        engine(toy_spec, tmp_path / "abort", image_dir, steps=4, fail_at=1, on_nonfinite="abort").run_training()
    assert ckpt.list_checkpoints(tmp_path / "abort" / "checkpoints")


def test_rollback_halves_lr(toy_spec, image_dir, tmp_path):
    e = engine(toy_spec, tmp_path / "rb", image_dir, steps=4, checkpoint_every=1, fail_at=2, on_nonfinite="rollback")
    e.run_training()
    assert e.run.lr_scale == 0.5 and e.run.step == 4


def test_lr_schedules():
    step = TrainConfig(lr_schedule="step", lr_step_every=10, lr_gamma=0.5)
    assert [lr_factor(step, s) for s in (0, 9, 10, 25)] == [1.0, 1.0, 0.5, 0.25]
    cos = TrainConfig(lr_schedule="cosine", steps=100, warmup=10)
    assert lr_factor(cos, 0) == pytest.approx(0.1)
    assert lr_factor(cos, 10) == pytest.approx(1.0)
    assert lr_factor(cos, 55) == pytest.approx(0.5)
    assert lr_factor(cos, 100) == pytest.approx(0.0, abs=1e-12)


def test_checkpoint_keeps_last_k_and_detects_tampering(tmp_path):
    for s in range(1, 5):
        ckpt.save(tmp_path, s, {"w": torch.full((2,), float(s))}, {"x": s}, keep=2)
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == ["step_00000003", "step_00000004"]
    path, tensors, state = ckpt.latest(tmp_path)
    assert state["step"] == 4 and tensors["w"][0] == 4
    shutil.rmtree(tmp_path / "step_00000004")
    (tmp_path / "step_00000004").mkdir()  # no state.json: incomplete
    with pytest.warns(UserWarning):
        assert ckpt.latest(tmp_path)[2]["step"] == 3


def test_periodic_evaluation_is_logged(toy_spec, image_dir, tmp_path):
    out = engine(toy_spec, tmp_path / "ev", image_dir, steps=2, eval_every=2, eval_metrics="fid", eval_n=8,
                 eval_extractor="random").run_training()
    evals = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines() if '"eval"' in x]
    assert len(evals) == 1 and evals[0]["step"] == 2
    assert evals[0]["eval"]["fid"] > 0
