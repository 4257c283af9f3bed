"""Run under torchrun by test_distributed.py: train the toy model and dump each rank's weights."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import torch.distributed as dist  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from test_engine import engine  # noqa: E402

from zoo_core.registry import ModelSpec  # noqa: E402

out, data = Path(sys.argv[1]), sys.argv[2]
spec = ModelSpec("toy", "toy", "toy", "toy_zoo:ToyConfig", "toy_zoo:ToyModel", "toy_zoo:ToyTrainer")
e = engine(spec, out, data, steps=3, batch_size=8, noise=0.0, sgd=True, lr=0.5, ema=False)
e.run_training()
state = {k: v.contiguous() for k, v in e.model.state_dict().items()}
save_file(state, str(out / f"rank{dist.get_rank()}.safetensors"))
dist.destroy_process_group()
