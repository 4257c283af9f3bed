"""What kill -9 during a write leaves behind is cleared by the next writer of the run folder."""

from __future__ import annotations

from test_engine import engine

from zoo_core import checkpoint as ckpt


def test_a_killed_writers_temp_folders_are_removed_on_restart(toy_spec, image_dir, tmp_path):
    out = tmp_path / "run"
    engine(toy_spec, out, image_dir, steps=2, checkpoint_every=2).run_training()
    left = [out / "checkpoints" / ".tmp-step_00000003-4242-0a1b2c3d", out / ".tmp-final-4242-0a1b2c3d"]
    for p in left:
        p.mkdir()
        (p / "tensors.safetensors").write_bytes(b"half")
    keep = out / "checkpoints" / "notes"  # not ours: left alone
    keep.mkdir()
    engine(toy_spec, out, image_dir, steps=3, checkpoint_every=2).run_training()
    assert not any(p.exists() for p in left)
    assert keep.is_dir()
    assert [p.name for p in ckpt.list_checkpoints(out / "checkpoints")] == ["step_00000002", "step_00000003"]
