"""One rank of a 2-process run for test_distributed.py (under torchrun, or started by hand with RANK etc.).

``dist_worker.py toy OUT DATA``: train the toy model and dump each rank's weights.

``dist_worker.py zoo KILL_RANK KILL_STEP ARGS...``: run ``zoo ARGS`` unchanged, except that the process of
rank KILL_RANK SIGKILLs itself right after step KILL_STEP (on the first attempt only: not after a
torchrun elastic restart). The kill is the real thing (no cleanup, sockets closed by the OS); doing it
from inside makes the step exact, so a test is reproducible on a loaded machine.
"""

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def toy(out: Path, data: str) -> None:
    import torch.distributed as dist
    from safetensors.torch import save_file
    from test_engine import engine

    from zoo_core.registry import ModelSpec

    spec = ModelSpec("toy", "toy", "toy", "toy_zoo:ToyConfig", "toy_zoo:ToyModel", "toy_zoo:ToyTrainer")
    e = engine(spec, out, data, steps=3, batch_size=8, noise=0.0, sgd=True, lr=0.5, ema=False)
    e.run_training()
    state = {k: v.contiguous() for k, v in e.model.state_dict().items()}
    save_file(state, str(out / f"rank{dist.get_rank()}.safetensors"))
    dist.destroy_process_group()


def zoo(kill_rank: int, kill_step: int, args: list[str]) -> None:
    from zoo_core import engine
    from zoo_core.cli import main

    def kill(e) -> None:
        if e.run.step == kill_step and e.dist.rank == kill_rank:
            os.kill(os.getpid(), signal.SIGKILL)

    if os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") == "0":
        init = engine.Engine.__init__

        def init_with_kill(self, *a, **k):
            init(self, *a, **k)
            self.callbacks.append(kill)

        engine.Engine.__init__ = init_with_kill
    main(args)


if __name__ == "__main__":
    if sys.argv[1] == "toy":
        toy(Path(sys.argv[2]), sys.argv[3])
    else:
        zoo(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:])
