"""pytorch_GAN_zoo's PGAN checkpoints (its torch.hub models) into zoo ``pggan`` generators.

A hub checkpoint is a dict ``{"config": BaseConfig, "netG": ..., "netD": ..., "avgG": ...}``; the
averaged generator ``avgG`` (what their ``model.test(getAvG=True)`` samples with) is imported, else
``netG``; a bare generator state dict works too. The training config is a pickled object of their
class ``models.utils.config.BaseConfig``: it is admitted as an inert stand-in of ours (attributes
only, nothing of theirs is imported or run) and otherwise ignored, since the generator's shape is
read from the weights: latent size, 4x4 width and each later level's width.

Their equalized layers compute ``(W x + b) * sqrt(2 / fan_in)``; zoo's compute ``(W * s) x + b`` with
each layer's own constant ``s`` (its dense layer and toRGB use other gains), so weights are rescaled by
``sqrt(2 / fan_in) / s`` and biases by ``sqrt(2 / fan_in)``: the same function, exact up to rounding.
The generator's first PixelNorm acts per pixel of the 4x4 map (``dense_norm="pixel"``), as theirs does.

An AC-GAN generator (the DTD release: ``categoryVectorDim`` 47) takes its noise then a one-hot of the
class (one per attribute, in their ``attribKeysOrder``'s order, when it has several); zoo's ``class_cond``
input is exactly that, PixelNorm-ed as a whole as theirs is, so it converts to a class-conditional pggan
that keeps the class (or attribute and value) names from ``attribKeysOrder`` for ``--class NAME`` (a bare
state dict names its class count with ``--option num_classes=K``, its classes then unnamed).

The pickled config is still read for what the weights cannot show: a generator trained with settings
zoo's does not compute (no equalized lr, other leaky slope, a tanh output) is refused with the reason, its width list must agree with the weights, and a
checkpoint saved mid-fade keeps its blend (their ``alpha`` weights the older output, zoo's the newer).
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
# their ProgressiveGAN settings that zoo's generator reproduces (the releases' values); lossCriterion MSE and
# DCGAN would add a tanh output
EXACT = {"equalizedlR": True, "perChannelNormalization": True, "leakyReluLeak": 0.2}
NO_OUTPUT_ACTIVATION = ("WGANGP", "Logistic")
LAYER = re.compile(r"^(formatLayer|groupScale0\.0|scaleLayers\.(\d+)\.([01])|toRGBLayers\.(\d+))\.module\.(weight|bias)$")


def detect(path: Path) -> bool:
    """One of the released PGAN files, recognised by its name."""
    return is_release(path, RELEASES)


def generator_state(obj: Any, path: Path) -> dict[str, Any]:
    """The averaged (else the raw) generator's state dict in a hub checkpoint, or a bare one."""
    return entry_state(obj, path, ("avgG", "netG"), "formatLayer.module.weight", "a pytorch_GAN_zoo PGAN checkpoint")


def release_classes(config: dict[str, Any], path: Path, options: dict[str, Any]) -> int:
    """AC-GAN classes after z: the pickled ``categoryVectorDim``, else the release's, else ``--option num_classes``."""
    release = RELEASES.get(path.stem)
    value = config.get("categoryVectorDim", options.get("num_classes", release.classes if release else 0))
    if isinstance(value, bool) or not str(value).isdigit():
        raise ZooError(f"{path.name}'s class count (categoryVectorDim / --option num_classes) is {value!r}; "
                       "expected a non-negative integer")
    return int(value)


def check_training_config(config: dict[str, Any], state: dict[str, Any], path: Path) -> float:
    """Their blend ``alpha`` (0 when fully grown), after a ZooError for a generator zoo cannot compute exactly."""
    why = [f"{k}={config[k]!r}" for k, v in EXACT.items() if k in config and config[k] != v]
    if config.get("lossCriterion", "WGANGP") not in NO_OUTPUT_ACTIVATION:
        why.append(f"lossCriterion={config['lossCriterion']!r} (a tanh output)")
    if why:
        raise ZooError(f"{path.name}'s generator was trained with {', '.join(why)}; zoo pggan computes only "
                       f"{', '.join(f'{k}={v!r}' for k, v in EXACT.items())} and no output activation")
    if "depthScale0" in config and "depthOtherScales" in config:  # ProgressiveGAN always records both
        others = config["depthOtherScales"]
        depths = [config["depthScale0"], *others] if isinstance(others, (list, tuple)) else [config["depthScale0"], others]
        widths = zoo_config(state, {}, 0)["level_channels"]
        if list(widths) != depths:
            raise ZooError(f"{path.name} is inconsistent: its config lists widths {depths}, its weights have "
                           f"{list(widths)}")
    alpha = config.get("alpha", 0.0)
    if not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
        raise ZooError(f"{path.name}'s config has blend alpha {alpha!r}; expected a number in [0, 1]")
    return float(alpha)


def zoo_config(state: dict[str, Any], options: dict[str, Any], classes: int = 0,
               names: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """The zoo ``pggan`` config of a PGAN generator, read from its weight shapes; ``classes`` of its inputs
    are an AC-GAN one-hot after the noise (zoo's ``class_cond``), named ``names``."""
    dense = state["formatLayer.module.weight"]
    if not 0 <= classes < dense.shape[1]:
        raise ZooError(f"the PGAN generator takes {dense.shape[1]} inputs, too few for {classes} classes after "
                       "the noise; check --option num_classes")
    levels = 1 + len({k.split(".")[1] for k in state if k.startswith("scaleLayers.")})
    widths = [dense.shape[0] // 16] + [state[f"scaleLayers.{k}.0.module.weight"].shape[0] for k in range(levels - 1)]
    res = 4 * 2 ** (levels - 1)
    values = dict(res=res, start_res=res, z_dim=dense.shape[1] - classes, class_cond=bool(classes),
                  num_classes=classes, class_names=tuple(names), in_channels=state["toRGBLayers.0.module.weight"].shape[0],
                  level_channels=tuple(widths), dense_norm="pixel", pixel_norm=True)
    unknown = set(options) - {"pixel_norm", "num_classes"}
    if unknown:
        raise ZooError("the pytorch_GAN_zoo importer takes only --option pixel_norm=... and num_classes=..., "
                       f"not {', '.join(unknown)}")
    if "pixel_norm" in options:
        values["pixel_norm"] = str(options["pixel_norm"]).lower() in ("true", "1")
    return values


def convert_state(state: dict[str, Any], model, their_alpha: float = 0.0) -> dict[str, Any]:
    """Their generator's tensors in zoo's names and scaling (``model`` supplies zoo's layer constants).

    ``their_alpha`` is their blend (the weight of the older, upsampled output); zoo stores ``1 - alpha``.
    """
    import torch

    out = {"level": torch.tensor(len(model.net.resolutions) - 1), "alpha": torch.tensor(1.0 - their_alpha)}
    for key, tensor in state.items():
        m = LAYER.match(key)
        if m is None:
            raise ZooError(f"unexpected tensor {key!r} in the PGAN generator")
        layer, block, conv, rgb, param = m.groups()
        name = ("net.dense" if layer == "formatLayer" else "net.conv0" if layer.startswith("groupScale0")
                else f"net.blocks.{block}.conv{int(conv) + 1}" if block is not None else f"net.to_rgb.{rgb}")
        weight = state[f"{layer}.module.weight"]
        theirs = math.sqrt(2.0 / math.prod(weight.shape[1:]))
        ours = model.get_submodule(name).scale
        out[f"{name}.{param}"] = tensor * (theirs / ours if param == "weight" else theirs)
    return out


def convert(path: Path, out: Path, **options: Any) -> Path:
    """Write the zoo ``pggan`` saved model of the PGAN checkpoint ``path`` into ``out``."""
    import torch

    from zoo_core.config import build

    from .config import PGGANConfig
    from .model import PGGAN

    path = checkpoint_file(path, "a pytorch_GAN_zoo PGAN .pth checkpoint")
    obj = read_checkpoint(path, STUBS)
    state = generator_state(obj, path)
    config = stub_config(obj)
    their_alpha = check_training_config(config, state, path)
    classes = release_classes(config, path, options)
    names = gan_zoo_class_names(config.get("attribKeysOrder"), classes, path.name) if classes else []
    cfg = build(PGGANConfig, zoo_config(state, options, classes, names), source=f"the PGAN generator in {path.name}")
    with torch.device("meta"):
        constants = PGGAN(cfg)
    converted = convert_state(state, constants, their_alpha)
    return write_model(load_checked(lambda: PGGAN(cfg), converted, str(path)).eval(), out)
