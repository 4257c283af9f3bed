"""pytorch_GAN_zoo's DCGAN checkpoint (its torch.hub model, trained on FashionGen) into a zoo ``dcgan``.

The hub checkpoint has the same layout as its PGAN ones (``{"config", "netG", "netD", "avgG"}``, the
config a pickled object of their ``BaseConfig`` class, admitted as an inert stand-in).
Their generator is zoo's: a 4x4 transposed convolution from z, then batch norm + ReLU and stride-2
transposed 4x4 convolutions halving the width, and a bias-free output convolution with tanh. The
shape (latent size, base width, depth) is read from the weights; zoo's output bias is set to zero.

The config says what the weights cannot: an AC-GAN generator (their ``categoryVectorDim``) takes one-hot
class values after the noise, one segment per attribute of their ``attribKeysOrder`` in its ``order``: zoo's
``class_cond`` input, with the attribute and value names kept as the model's ``class_names`` (so ``zoo
sample --class category=DRESSES`` picks values by name). A loss without the tanh output is refused with the
reason. The FashionGen release is documented with a 120-value input (torch.hub's page) where
dcgan_config.py's DCGAN default is 100 noise values: its recipe conditions on several FashionGen
attributes, whose one-hots make up the rest.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from zoo_core.errors import ZooError
from zoo_core.gan.acgan import gan_zoo_class_names
from zoo_core.importing import (
    checkpoint_file,
    entry_state,
    is_release,
    load_checked,
    read_checkpoint,
    stub_config,
    write_model,
)

from .catalogue import RELEASES

STUBS = ("models.utils.config.BaseConfig",)
MAIN = re.compile(r"^main\.(batchNorm|convTranspose)(\d+)\.(.+)$")
TANH_LOSSES = ("DCGAN", "MSE")  # their losses whose generationActivation is tanh, as zoo's generator has


def detect(path: Path) -> bool:
    """The released DCGAN file, recognised by its name."""
    return is_release(path, RELEASES)


def class_inputs(config: dict[str, Any], path: Path) -> int:
    """How many one-hot class values follow the noise in G's input (0: unconditional), from the pickled config;
    a ZooError when zoo's generator cannot compute theirs (no tanh output)."""
    loss = config.get("lossCriterion", "DCGAN")
    if loss not in TANH_LOSSES:
        raise ZooError(f"{path.name}'s generator was trained with lossCriterion={loss!r}, which has no tanh "
                       "output; zoo dcgan's ends in tanh")
    classes = config.get("categoryVectorDim", 0)
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 0:
        raise ZooError(f"{path.name}'s config has categoryVectorDim {classes!r}; expected an integer >= 0")
    return classes


def zoo_config(state: dict[str, Any], classes: int = 0, names: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """The zoo ``dcgan`` config of their generator, read from its weight shapes (``classes`` one-hot inputs,
    named ``names``)."""
    depth = len({k for k in state if k.startswith("main.convTranspose") and k.endswith(".weight")})
    out = state["main.outlayer.weight"]
    if not 0 <= classes < state["formatLayer.weight"].shape[0]:
        raise ZooError(f"the DCGAN generator takes {state['formatLayer.weight'].shape[0]} inputs, too few for "
                       f"{classes} class values after the noise")
    return dict(res=4 * 2 ** (depth + 1), z_dim=state["formatLayer.weight"].shape[0] - classes, channels=out.shape[0],
                in_channels=out.shape[1], upsample="convtranspose", class_cond=bool(classes), num_classes=classes,
                class_names=tuple(names))


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


def generator(state: dict[str, Any], classes: int, source: str, names: list[str] | tuple[str, ...] = ()):
    """The zoo ``DCGAN`` holding their generator ``state`` (``classes`` one-hot AC-GAN inputs after the noise,
    named ``names``)."""
    from zoo_core.config import build

    from .config import DCGANConfig
    from .model import DCGAN

    values = zoo_config(state, classes, names)
    cfg = build(DCGANConfig, values, source=f"the DCGAN generator in {source}")
    depth = int(math.log2(values["res"])) - 3
    return load_checked(lambda: DCGAN(cfg), convert_state(state, depth), source).eval()


def convert(path: Path, out: Path, **options: Any) -> Path:
    """Write the zoo ``dcgan`` saved model of the DCGAN checkpoint ``path`` into ``out``."""
    if options:
        raise ZooError(f"the pytorch_GAN_zoo DCGAN importer takes no options (got {', '.join(options)})")
    path = checkpoint_file(path, "a pytorch_GAN_zoo DCGAN .pth checkpoint")
    obj = read_checkpoint(path, STUBS)
    state = entry_state(obj, path, ("avgG", "netG"), "main.outlayer.weight", "a pytorch_GAN_zoo DCGAN checkpoint")
    config = stub_config(obj)
    classes = class_inputs(config, path)
    names = gan_zoo_class_names(config.get("attribKeysOrder"), classes, path.name) if classes else []
    return write_model(generator(state, classes, path.name, names), out)
