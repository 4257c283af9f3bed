"""Make the pytorch_GAN_zoo PGAN golden file by running the original code (NOT run by the tests).

usage: python make_golden.py PYTORCH_GAN_ZOO_CHECKOUT OUT_DIR

Builds the original ``GNet`` (4x4 -> 8x8 -> 16x16, latent 16, widths 32, 32, 16, pixel norm and equalized
learning rate as the hub models use), fills every tensor by the rule in ``fill``
(zoo_core.importing.seeded_state_dict: the test regenerates the same weights, so none are stored) and
records its output for fixed latents, fully grown (alpha 0) and mid-fade (alpha 0.3, their convention:
the weight of the upsampled older output); and the same for a small AC-GAN generator (``acgan``), whose
input is the noise followed by a one-hot of the class as in the DTD release.
"""

import json
import re
import sys
from functools import partial
from pathlib import Path

import torch

sys.path.insert(0, sys.argv[1])
from models.networks.progressive_conv_net import GNet  # noqa: E402
from models.trainer.standard_configurations.pgan_config import _C as PGAN_CONFIG  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the zoo checkout: its seeded_state_dict
from zoo_core.importing import seeded_state_dict  # noqa: E402

fill = partial(seeded_state_dict, std=1.0, bias_std=0.1)  # N(0, 1) per tensor, biases N(0, 0.1^2)

# The files hubconf.py downloads; "_s<s>_" in a name is the scale it was saved at (4 * 2**s px). Their
# datasets.py recipes (config_<dataset>.json) override no architecture field, so pgan_config.py's defaults
# apply; DTD's recipe (imagefolderDataset, weightConditionG/D 1) makes an AC-GAN over DTD's 47 classes.
HUB_FILES = ("celebaHQ_s6_i80000-6196db68", "celebaHQ16_december_s7_i96000-9c72988c", "testDTD_s5_i96000-04efa39f",
             "celebaCropped_s5_i83000-2b0acc76")
AC_GAN_CLASSES = {"testDTD_s5_i96000-04efa39f": 47}


def release_keys() -> dict:
    """Each release's generator as ProgressiveGAN.getNetG builds it from the documented config (meta device)."""
    keys = {}
    for name in HUB_FILES:
        scale, classes = int(re.search(r"_s(\d+)_", name).group(1)), AC_GAN_CLASSES.get(name, 0)
        depths = PGAN_CONFIG.depthScales[:scale + 1]
        config = {"depthScales": depths, "dimLatentVector": PGAN_CONFIG.dimLatentVector, "categoryVectorDim": classes,
                  "perChannelNormalization": PGAN_CONFIG.perChannelNormalization, "equalizedlR": True,
                  "leakyness": PGAN_CONFIG.leakyness, "lossMode": PGAN_CONFIG.lossMode, "dimOutput": PGAN_CONFIG.dimOutput}
        with torch.device("meta"):
            net = GNet(PGAN_CONFIG.dimLatentVector + classes, depths[0], leakyReluLeak=PGAN_CONFIG.leakyness,
                       normalization=PGAN_CONFIG.perChannelNormalization, dimOutput=PGAN_CONFIG.dimOutput,
                       equalizedlR=True)
            for depth in depths[1:]:
                net.addScale(depth)
        keys[name] = {"config": config, "shapes": {k: list(v.shape) for k, v in net.state_dict().items()}}
    return keys


def main(out: Path) -> None:
    from safetensors.torch import save_file

    net = GNet(dimLatent=16, depthScale0=32)
    net.addScale(32)
    net.addScale(16)
    shapes = {k: list(v.shape) for k, v in net.state_dict().items()}
    net.load_state_dict(fill(shapes))
    z = torch.randn(2, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        net.setNewAlpha(0.0)
        grown = net(z)
        net.setNewAlpha(0.3)
        fading = net(z)
    out.mkdir(parents=True, exist_ok=True)
    (out / "pgan_release_keys.json").write_text(json.dumps(release_keys(), indent=0, sort_keys=True) + "\n")
    (out / "pgan_tiny.json").write_text(json.dumps({"shapes": shapes, "latent": 16}, indent=0, sort_keys=True) + "\n")
    save_file({"z": z, "grown": grown, "fading_0.3": fading}, str(out / "pgan_tiny.safetensors"))
    acgan(out)


def acgan(out: Path) -> None:
    """An AC-GAN generator as the DTD recipe builds it (noise, then a one-hot of the classes: latent 12 + 4
    classes, widths 32, 16: 8x8 output) and its output for noise (seed 2) with classes 3, 0, 2 one-hot after it
    (as their ``buildNoiseData`` concatenates them)."""
    from safetensors.torch import save_file

    noise, classes = 12, 4
    net = GNet(dimLatent=noise + classes, depthScale0=32)
    net.addScale(16)
    shapes = {k: list(v.shape) for k, v in net.state_dict().items()}
    net.load_state_dict(fill(shapes, seed=3))
    z = torch.randn(3, noise, generator=torch.Generator().manual_seed(2))
    labels = torch.tensor([3, 0, 2])
    with torch.no_grad():
        net.setNewAlpha(0.0)
        grown = net(torch.cat([z, torch.nn.functional.one_hot(labels, classes).float()], dim=1))
    (out / "pgan_acgan_tiny.json").write_text(json.dumps({"shapes": shapes, "noise": noise, "classes": classes,
                                                          "weight_seed": 3}, indent=0, sort_keys=True) + "\n")
    save_file({"z": z, "labels": labels, "grown": grown}, str(out / "pgan_acgan_tiny.safetensors"))


if __name__ == "__main__":
    main(Path(sys.argv[2]))
