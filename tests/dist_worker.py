"""One rank of a 2-process run for test_distributed.py (under torchrun, or started by hand with RANK etc.).

``dist_worker.py toy OUT DATA``: train the toy model and dump each rank's weights.

``dist_worker.py zoo SIGNAL RANK STEP ARGS...``: run ``zoo ARGS`` unchanged, except that the process of
rank RANK sends itself SIGNAL (KILL or TERM) right after step STEP (on the first attempt only: not after a
torchrun elastic restart). The signal is the real thing (SIGKILL: no cleanup, sockets closed by the OS);
sending it from inside makes the step exact, so a test is reproducible on a loaded machine.
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


def zoo(signum: int, kill_rank: int, kill_step: int, args: list[str]) -> None:
    from zoo_core import engine
    from zoo_core.cli import main

    def kill(e) -> None:
        if e.run.step == kill_step and e.dist.rank == kill_rank:
            os.kill(os.getpid(), signum)

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
        zoo(getattr(signal, "SIG" + sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:])
