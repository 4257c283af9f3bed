"""Make the pytorch_GAN_zoo DCGAN golden file by running the original code (NOT run by the tests).

usage: python make_golden.py PYTORCH_GAN_ZOO_CHECKOUT OUT_DIR

Builds the original DCGAN ``GNet`` as its hub model is configured (depth 3: 64x64 output, tanh output as
the DCGAN loss sets it) at a small width (latent 8, dimG 4), fills every tensor by the rule in ``fill``
(``zoo_core.importing.seeded_state_dict``; the test regenerates the same weights, so none are stored) and
records its eval-mode output (batch norm with the filled running statistics) for fixed latents.
"""

import json
import sys
from functools import partial
from pathlib import Path

import torch

sys.path.insert(0, sys.argv[1])
from models.networks.DCGAN_nets import GNet  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the zoo checkout: its seeded_state_dict
from zoo_core.importing import seeded_state_dict  # noqa: E402

fill = partial(seeded_state_dict, std=0.2)  # floats N(0, 0.2^2), running variances U(0.5, 1.5); counters 0


def main(out: Path) -> None:
    from safetensors.torch import save_file

    net = GNet(8, 3, 4, depthModel=3, generationActivation=torch.tanh)
    shapes = {k: list(v.shape) for k, v in net.state_dict().items()}
    net.load_state_dict(fill(shapes))
    net.eval()
    z = torch.randn(2, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        images = net(z)
    out.mkdir(parents=True, exist_ok=True)
    (out / "dcgan_tiny.json").write_text(json.dumps({"shapes": shapes}, indent=0, sort_keys=True) + "\n")
    save_file({"z": z, "images": images}, str(out / "dcgan_tiny.safetensors"))


if __name__ == "__main__":
    main(Path(sys.argv[2]))
