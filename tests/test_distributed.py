"""Data parallel training with torch.distributed (gloo, 2 CPU processes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

HERE = Path(__file__).parent


def torchrun(args, cwd, timeout=300):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", *args],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


@pytest.mark.slow
def test_two_gloo_ranks_hold_the_same_weights_as_one_process(toy_spec, image_dir, tmp_path):
    from test_engine import engine

    out = tmp_path / "ddp"
    proc = torchrun([str(HERE / "dist_worker.py"), str(out), str(image_dir)], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r0, r1 = load_file(str(out / "rank0.safetensors")), load_file(str(out / "rank1.safetensors"))
    single = engine(toy_spec, tmp_path / "single", image_dir, steps=3, batch_size=8, noise=0.0, sgd=True, lr=0.5,
                    ema=False)
    single.run_training()
    for k, v in single.model.state_dict().items():
        assert torch.equal(r0[k], r1[k])  # both ranks hold identical weights
        torch.testing.assert_close(r0[k], v, rtol=1e-5, atol=1e-6)  # and they equal one process on the same batches
    assert (out / "final" / "model.safetensors").is_file()
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 3  # only rank 0 writes


@pytest.mark.slow
def test_torchrun_zoo_core_train_cli(tmp_path):
    out = tmp_path / "run"
    proc = torchrun(["-m", "zoo_core", "train", "ddpm", "--data", "builtin:shapes", "--res", "8", "--channels", "8",
                     "--channel-mults", "1,2", "--num-res-blocks", "1", "--timesteps", "20", "--steps", "2",
                     "--batch-size", "4", "--out", str(out), "--no-progress", "--device", "cpu"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (out / "final" / "model.safetensors").is_file()


@pytest.mark.slow
def test_two_rank_resume_equals_uninterrupted_run(tmp_path):
    """A 2-rank run cut after step 2 (later checkpoints and final/ lost, as after a kill) and re-run
    ends with the same weights as the uninterrupted run: each rank gets its own RNG state back."""
    import shutil

    def run(out):
        proc = torchrun(["-m", "zoo_core", "train", "ddpm", "--data", "builtin:shapes", "--res", "8", "--channels",
                         "8", "--channel-mults", "1,2", "--num-res-blocks", "1", "--timesteps", "20", "--steps", "4",
                         "--batch-size", "4", "--checkpoint-every", "1", "--keep-checkpoints", "4", "--out", str(out),
                         "--no-progress", "--device", "cpu"], tmp_path)
        assert proc.returncode == 0, proc.stderr[-3000:]

    full, cut = tmp_path / "full", tmp_path / "cut"
    run(full)
    run(cut)
    for name in ("step_00000003", "step_00000004"):
        shutil.rmtree(cut / "checkpoints" / name)
    shutil.rmtree(cut / "final")
    run(cut)  # resumes from step 2
    a, b = load_file(str(full / "final" / "model.safetensors")), load_file(str(cut / "final" / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
