"""One writer per run folder, and an unwritable --out fails before the model is built."""

from __future__ import annotations

import os

import pytest
from test_engine import engine  # noqa: E402  (the toy-family engine helper)

from zoo_core import runlock
from zoo_core.errors import ZooError


def test_second_writer_is_refused_naming_the_holder(toy_spec, image_dir, tmp_path):
    out = tmp_path / "run"
    held = runlock.acquire(out)
    try:
        with pytest.raises(ZooError, match=f"pid {os.getpid()}") as err:
            engine(toy_spec, out, image_dir, steps=2).run_training()
        assert "choose another --out" in str(err.value)
        assert not (out / "config.json").exists() and not (out / "checkpoints").exists()
    finally:
        held.close()
    engine(toy_spec, out, image_dir, steps=2).run_training()  # released: the run goes ahead
    assert (out / "final").is_dir()


def test_lock_is_released_when_the_holder_closes(tmp_path):
    first = runlock.acquire(tmp_path / "r")
    first.close()  # what the OS does when the holder dies, even on kill -9
    runlock.acquire(tmp_path / "r").close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_out_is_a_one_line_error(toy_spec, image_dir, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(ZooError, match="cannot write to .*choose a writable --out"):
            engine(toy_spec, ro / "run", image_dir, steps=2).run_training()
    finally:
        ro.chmod(0o700)


def test_unwritable_probe_is_a_one_line_error(tmp_path, monkeypatch):
    from pathlib import Path

    def full(self, *a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(ZooError, match="No space left on device"):
        runlock.acquire(tmp_path / "full")


def test_full_disk_during_checkpoint_keeps_earlier_ones_and_leaves_no_temp(tmp_path, monkeypatch):
    import torch

    from zoo_core import checkpoint as ckpt

    root = tmp_path / "checkpoints"
    ckpt.save(root, 1, {"w": torch.ones(3)}, {"note": "first"})
    import safetensors.torch as st

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(st, "save_file", full)
    with pytest.raises(ZooError, match="No space left on device.*intact"):
        ckpt.save(root, 2, {"w": torch.zeros(3)}, {"note": "second"})
    assert [p.name for p in root.iterdir()] == ["step_00000001"]
    tensors, state = ckpt.read(root / "step_00000001")
    assert state["note"] == "first" and torch.equal(tensors["w"], torch.ones(3))
