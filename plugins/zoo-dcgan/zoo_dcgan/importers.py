"""pytorch_GAN_zoo's DCGAN checkpoint (its torch.hub model, trained on FashionGen) into a zoo ``dcgan``.

The hub checkpoint has the same layout as its PGAN ones (``{"config", "netG", "netD", "avgG"}``, the
config a pickled object of their ``BaseConfig`` class, admitted as an inert stand-in and ignored).
Their generator is zoo's: a 4x4 transposed convolution from z, then batch norm + ReLU and stride-2
transposed 4x4 convolutions halving the width, and a bias-free output convolution with tanh. The
shape (latent size, base width, depth) is read from the weights; zoo's output bias is set to zero.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from zoo_core.errors import ZooError
from zoo_core.importing import entry_state, load_checked, read_checkpoint, write_model

STUBS = ("models.utils.config.BaseConfig",)
RELEASES = {"DCGAN_fashionGen-1d67302": (64, "FashionGen")}
URL = "https://dl.fbaipublicfiles.com/gan_zoo/{}.pth"
MAIN = re.compile(r"^main\.(batchNorm|convTranspose)(\d+)\.(.+)$")


def detect(path: Path) -> bool:
    """The released DCGAN file, recognised by its name."""
    path = Path(path)
    return path.is_file() and path.suffix in (".pth", ".pt") and path.stem in RELEASES


def zoo_config(state: dict[str, Any]) -> dict[str, Any]:
    """The zoo ``dcgan`` config of their generator, read from its weight shapes."""
    depth = len({k for k in state if k.startswith("main.convTranspose") and k.endswith(".weight")})
    out = state["main.outlayer.weight"]
    return dict(res=4 * 2 ** (depth + 1), z_dim=state["formatLayer.weight"].shape[0], channels=out.shape[0],
                in_channels=out.shape[1], upsample="convtranspose", class_cond=False)


def convert_state(state: dict[str, Any], depth: int) -> dict[str, Any]:
    """Their generator's tensors in zoo's names (``net.net.<index>`` of its Sequential)."""
    import torch

    out = {"net.net.0.weight": state["formatLayer.weight"]}
    for key, tensor in state.items():
        if key in ("formatLayer.weight",):
            continue
        if key == "main.outlayer.weight":
            out[f"net.net.{3 * (depth + 1)}.weight"] = tensor
            out[f"net.net.{3 * (depth + 1)}.bias"] = torch.zeros(tensor.shape[1])
            continue
        m = MAIN.match(key)
        if m is None:
            raise ZooError(f"unexpected tensor {key!r} in the DCGAN generator")
        kind, i, rest = m.group(1), int(m.group(2)), m.group(3)
        out[f"net.net.{3 * i + (1 if kind == 'batchNorm' else 0)}.{rest}"] = tensor
    return out


def convert(path: Path, out: Path, **options: Any) -> Path:
    """Write the zoo ``dcgan`` saved model of the DCGAN checkpoint ``path`` into ``out``."""
    from zoo_core.config import build

    from .config import DCGANConfig
    from .model import DCGAN

    if options:
        raise ZooError(f"the pytorch_GAN_zoo DCGAN importer takes no options (got {', '.join(options)})")
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"{path} is not a file (expected a pytorch_GAN_zoo DCGAN .pth checkpoint)")
    state = entry_state(read_checkpoint(path, STUBS), path, ("avgG", "netG"), "main.outlayer.weight",
                        "a pytorch_GAN_zoo DCGAN checkpoint")
    values = zoo_config(state)
    cfg = build(DCGANConfig, values, source=f"the DCGAN generator in {path.name}")
    depth = int(math.log2(values["res"])) - 3
    return write_model(load_checked(lambda: DCGAN(cfg), convert_state(state, depth), str(path)).eval(), out)
