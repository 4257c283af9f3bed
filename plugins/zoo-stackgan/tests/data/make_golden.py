"""Make the StackGAN-Pytorch golden file by running the original code (NOT run by the tests).

usage: python make_golden.py STACKGAN_PYTORCH_CHECKOUT OUT_DIR

Their ``code/model.py`` reads its sizes from ``miscc.config.cfg`` (an easydict loaded from YAML); a plain
namespace with small sizes stands in for it here (TEXT.DIMENSION 16, CONDITION_DIM 8, Z_DIM 8, GF_DIM 8,
R_NUM 1, CPU). ``STAGE2_G`` (which holds a ``STAGE1_G``) is built, every tensor filled by the rule in
``fill`` (zoo_core.importing.seeded_state_dict: the test regenerates the same weights, so none are
stored), and its eval-mode outputs recorded for fixed text embeddings and noise (Stage II's at every 4th
pixel); the conditioning-augmentation noise is the global RNG's after ``torch.manual_seed(7)`` (Stage I's
draw first, then Stage II's).
"""

import json
import sys
import types
from functools import partial
from pathlib import Path

import torch

sys.path.insert(0, str(Path(sys.argv[1]) / "code"))
ns = types.SimpleNamespace
cfg = ns(TEXT=ns(DIMENSION=16), GAN=ns(CONDITION_DIM=8, GF_DIM=8, DF_DIM=8, R_NUM=1), Z_DIM=8, CUDA=False)
sys.modules["miscc"] = types.ModuleType("miscc")
sys.modules["miscc.config"] = types.ModuleType("miscc.config")
sys.modules["miscc.config"].cfg = cfg
from model import STAGE1_G, STAGE2_G  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the zoo checkout: its seeded_state_dict
from zoo_core.importing import seeded_state_dict  # noqa: E402

fill = partial(seeded_state_dict, std=0.2)  # floats N(0, 0.2^2), running variances U(0.5, 1.5); counters 0


def main(out: Path) -> None:
    from safetensors.torch import save_file

    net = STAGE2_G(STAGE1_G())
    shapes = {k: list(v.shape) for k, v in net.state_dict().items()}
    net.load_state_dict(fill(shapes))
    net.eval()
    g = torch.Generator().manual_seed(1)
    phi, z = torch.randn(2, 16, generator=g), torch.randn(2, 8, generator=g)
    torch.manual_seed(7)
    with torch.no_grad():
        image1, image2, mu2, logvar2 = net(phi, z)
    out.mkdir(parents=True, exist_ok=True)
    (out / "stackgan_tiny.json").write_text(json.dumps({"shapes": shapes}, indent=0, sort_keys=True) + "\n")
    # every 4th pixel of the 256x256 Stage-II images keeps the file small (96 KB instead of 1.5 MB)
    tensors = {"phi": phi, "z": z, "image1": image1, "image2_every4": image2[:, :, ::4, ::4], "mu2": mu2,
               "logvar2": logvar2}
    save_file({k: v.contiguous() for k, v in tensors.items()},
              str(out / "stackgan_tiny.safetensors"))


if __name__ == "__main__":
    main(Path(sys.argv[2]))
