"""Data parallel training with torch.distributed (gloo, 2 CPU processes), and its faults: a rank killed
at a random step, the survivor's one-line exit, resume, and torchrun's elastic restart."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
from itertools import islice
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

HERE = Path(__file__).parent


def _env(**extra):
    path = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
    return dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=path, **extra)


def torchrun(args, cwd, timeout=300, launcher=()):
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           *launcher, *args], capture_output=True, text=True, env=_env(), cwd=cwd, timeout=timeout)


@pytest.mark.slow
def test_two_gloo_ranks_hold_the_same_weights_as_one_process(toy_spec, image_dir, tmp_path):
    from test_engine import engine

    out = tmp_path / "ddp"
    proc = torchrun([str(HERE / "dist_worker.py"), "toy", str(out), str(image_dir)], tmp_path)
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


# A tiny DDPM, 6 steps of 2 ranks; every run below must end with the weights of the uninterrupted one.
STEPS = 6
TRAIN = ["train", "ddpm", "--data", "builtin:shapes", "--res", "8", "--channels", "8", "--channel-mults", "1,2",
         "--num-res-blocks", "1", "--timesteps", "20", "--steps", str(STEPS), "--batch-size", "4",
         "--checkpoint-every", "2", "--no-progress", "--device", "cpu"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_ranks(out: Path, kill_rank: int = -1, kill_step: int = -1, signal: str = "KILL",
                 timeout: float = 180) -> list[tuple[int, str]]:
    """Start the two ranks of `zoo train` by hand (as torchrun would: RANK, WORLD_SIZE, MASTER_*), with each
    rank's stderr kept apart; rank ``kill_rank`` sends itself SIG``signal`` after step ``kill_step``.
    Returns (exit status, stderr) per rank."""
    port, procs = _free_port(), []
    for rank in range(2):
        env = _env(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                   WORLD_SIZE="2", LOCAL_WORLD_SIZE="2")
        err = open(out.parent / f"{out.name}-rank{rank}.err", "w+")
        cmd = [sys.executable, str(HERE / "dist_worker.py"), "zoo", signal, str(kill_rank), str(kill_step), *TRAIN,
               "--out", str(out)]
        procs.append((subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=out.parent), err))
    results = []
    try:
        for proc, err in procs:
            proc.wait(timeout=timeout)
            err.seek(0)
            results.append((proc.returncode, err.read()))
            err.close()
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.kill()
    return results


def final_weights(out: Path) -> dict:
    return load_file(str(out / "final" / "model.safetensors"))


def assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("dist") / "full"
    results = launch_ranks(out)
    assert [rc for rc, _ in results] == [0, 0], results
    return final_weights(out)


@pytest.mark.slow
def test_two_rank_resume_equals_uninterrupted_run(uninterrupted, tmp_path):
    """A 2-rank run cut after step 2 (later checkpoints and final/ lost) and re-run ends with the same
    weights as the uninterrupted run: each rank gets its own RNG state back."""
    cut = tmp_path / "cut"
    assert [rc for rc, _ in launch_ranks(cut)] == [0, 0]
    for name in ("step_00000004", "step_00000006"):
        shutil.rmtree(cut / "checkpoints" / name)
    shutil.rmtree(cut / "final")
    assert [rc for rc, _ in launch_ranks(cut)] == [0, 0]  # resumes from step 2
    assert_same_weights(final_weights(cut), uninterrupted)


@pytest.mark.slow
@pytest.mark.parametrize("trial", [0, 1])
def test_sigkill_of_one_rank_at_a_random_step_then_resume_equals_uninterrupted(trial, uninterrupted, tmp_path):
    """kill -9 of one of two ranks at a seeded random step: the survivor exits 75 with one line naming the
    lost rank and the last checkpoint (no traceback); running the same command again resumes and ends
    with exactly the weights of the uninterrupted run."""
    rng = random.Random(1800 + trial)
    victim, step = rng.randrange(2), rng.randint(1, STEPS - 1)
    out = tmp_path / "killed"
    results = launch_ranks(out, kill_rank=victim, kill_step=step)
    assert results[victim][0] == -9
    code, err = results[1 - victim]
    last = step - step % 2  # --checkpoint-every 2
    where = (f"the last checkpoint in {out} is step {last}: re-run the same command to resume" if last else
             f"no checkpoint was written to {out} yet: re-run the same command to start again")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 75, err
    assert "Traceback" not in err
    assert lines[-1].startswith(f"error: lost contact with rank {victim} (process group error: "), err
    assert lines[-1].endswith(where), err
    assert not (out / "final").exists()

    assert [rc for rc, _ in launch_ranks(out)] == [0, 0]  # the same command, no --resume
    assert_same_weights(final_weights(out), uninterrupted)


@pytest.mark.slow
def test_torchrun_elastic_restart_resumes_from_the_last_checkpoint(uninterrupted, tmp_path):
    """torchrun --max-restarts=1: rank 1 is SIGKILLed after step 3; torchrun restarts both workers, which
    resume from step 2 without --resume (TORCHELASTIC_RESTART_COUNT=1), and the final weights are the
    uninterrupted run's."""
    out = tmp_path / "elastic"
    proc = torchrun([str(HERE / "dist_worker.py"), "zoo", "KILL", "1", "3", *TRAIN, "--out", str(out)], tmp_path,
                    launcher=["--max-restarts=1"])
    (tmp_path / "torchrun.err").write_text(proc.stderr)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"resuming {out} from step_00000002 (torchrun restart 1)\n" in proc.stderr
    assert_same_weights(final_weights(out), uninterrupted)


@pytest.mark.slow
def test_sigterm_to_one_rank_stops_both_after_the_same_step(uninterrupted, tmp_path):
    """Ctrl-C or SIGTERM may reach one rank only (or the ranks at different steps): the ranks agree before
    every step, so both stop after step 3 and write one checkpoint, instead of one waiting forever in a
    collective the other never joins. Re-running ends as the uninterrupted run."""
    out = tmp_path / "term"
    results = launch_ranks(out, kill_rank=1, kill_step=3, signal="TERM")
    assert [rc for rc, _ in results] == [0, 0], results
    assert "stopped at step 3; checkpoint written" in " ".join(results[0][1].split())
    assert (out / "checkpoints" / "step_00000003").is_dir() and not (out / "final").exists()
    assert [rc for rc, _ in launch_ranks(out)] == [0, 0]
    assert_same_weights(final_weights(out), uninterrupted)


def test_each_rank_resumes_its_own_shard_of_the_sample_stream():
    """The data order is a function of (seed, position): the draws of rank r restarted at a saved
    position are exactly the rest of its uninterrupted draws, across epoch boundaries, and the ranks
    together see every item once per epoch. No sampler state beyond the position needs saving."""
    from zoo_core.data import StreamSampler

    n, world, seed, draws = 5, 2, 3, 12
    full = [list(islice(iter(StreamSampler(n, seed, 0, r, world)), draws)) for r in range(world)]
    stream = [full[k % world][k // world] for k in range(world * draws)]
    for epoch in range(len(stream) // n):
        assert sorted(i for i, _ in stream[epoch * n:(epoch + 1) * n]) == list(range(n))
    for position in (2, 4, 6, 10, 14):  # positions advance by micro-batch x world, always a multiple of world
        for r in range(world):
            resumed = list(islice(iter(StreamSampler(n, seed, position, r, world)), draws - position // world))
            assert resumed == full[r][position // world:]


def test_per_rank_state_is_stored_only_where_it_differs_and_given_back_to_its_rank():
    from zoo_core.distributed import for_rank, pack_ranks, rng_for_rank

    a, b = {"calls": 3, "history": [1.0, 2.0]}, {"calls": 3, "history": [1.5, 0.5]}
    assert pack_ranks([a, dict(a), dict(a)]) is None  # identical everywhere: nothing extra in state.json
    packed = pack_ranks([a, b, dict(a)])
    assert packed == [None, b, None]
    assert [for_rank(a, packed, r) for r in range(3)] == [a, b, a]
    assert for_rank(a, None, 1) == a
    state = {"rng": "r0", "rng_ranks": ["r0", "r1"]}
    assert [rng_for_rank(state, r) for r in range(3)] == ["r0", "r1", None]  # a third rank is seeded afresh
    assert [rng_for_rank({"rng": "r0"}, r) for r in range(2)] == ["r0", None]  # a one-process checkpoint


GLOO_RESET = ("[/__w/pytorch/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:545] Read error "
              "[127.0.0.1]:16065: Connection reset by peer. This is typically caused by a remote worker hanging "
              "or bugs in the application. Check the logs of the remote worker before reporting an error.")


def test_a_lost_peer_is_named_in_one_line_with_the_last_checkpoint(tmp_path):
    from zoo_core.distributed import describe_failure, is_peer_failure, peer_lost_message

    exc = RuntimeError(GLOO_RESET)
    assert is_peer_failure(exc) and is_peer_failure(torch.distributed.DistBackendError("NCCL error"))
    assert not is_peer_failure(RuntimeError("mat1 and mat2 shapes cannot be multiplied (4x8 and 9x8)"))
    assert describe_failure(exc) == "Read error [127.0.0.1]:16065: Connection reset by peer"
    assert peer_lost_message(exc, tmp_path, rank=1, world=2) == (
        "lost contact with rank 0 (process group error: Read error [127.0.0.1]:16065: Connection reset by peer); "
        f"no checkpoint was written to {tmp_path} yet: re-run the same command to start again")
    for step in (2, 4):
        (tmp_path / "checkpoints" / f"step_{step:08d}").mkdir(parents=True)
    msg = peer_lost_message(RuntimeError("x" * 500 + "\nConnection closed by peer"), tmp_path, rank=0, world=4)
    assert "\n" not in msg and msg.startswith("lost contact with another process of this run (process group error: x")
    assert msg.endswith(f"...); the last checkpoint in {tmp_path} is step 4: re-run the same command to resume")


def test_peer_guard_leaves_other_errors_and_single_processes_alone(tmp_path):
    from zoo_core.distributed import peer_guard

    with pytest.raises(RuntimeError, match="Connection reset by peer"):  # no process group: not a lost peer
        with peer_guard(tmp_path):
            raise RuntimeError(GLOO_RESET)
    with pytest.raises(ValueError):
        with peer_guard(tmp_path):
            raise ValueError("a bug stays a traceback")
