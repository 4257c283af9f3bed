"""Make the pytorch_GAN_zoo DCGAN golden file by running the original code (NOT run by the tests).

usage: python make_golden.py PYTORCH_GAN_ZOO_CHECKOUT OUT_DIR

Builds the original DCGAN ``GNet`` as its hub model is configured (depth 3: 64x64 output, tanh output as
the DCGAN loss sets it) at a small width (latent 8, dimG 4), fills every tensor by the rule in ``fill``
(``zoo_core.importing.seeded_state_dict``; the test regenerates the same weights, so none are stored) and
records its eval-mode output (batch norm with the filled running statistics) for fixed latents.

``acgan``: the multi-attribute AC-GAN path of their FashionGen recipe. Their ``ACGANCriterion`` builds the
class part of G's input from an ``attribKeysOrder`` of three attributes (listed out of their ``order``):
``buildLatentCriterion`` from value indices and ``generateConstraintsFromVector`` from value names; their
``GNet`` (depth 2: 32x32, latent 8 noise + 9 one-hot values) then maps ``[z, one-hots]`` to images.
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


ATTRIBUTES = {"pose": {"order": 2, "values": ["front", "back", "side"]},  # dict order != their "order"
              "gender": {"order": 0, "values": ["man", "woman"]},
              "category": {"order": 1, "values": ["coat", "dress", "shirt", "shoe"]}}
CONSTRAINT = {"gender": "woman", "category": "shirt", "pose": "front"}  # = value indices 1, 2, 0


def acgan(out: Path) -> None:
    from models.loss_criterions.ac_criterion import ACGANCriterion
    from safetensors.torch import save_file

    criterion = ACGANCriterion(ATTRIBUTES)
    classes = criterion.getInputDim()
    net = GNet(8 + classes, 3, 4, depthModel=2, generationActivation=torch.tanh)
    shapes = {k: list(v.shape) for k, v in net.state_dict().items()}
    net.load_state_dict(fill(shapes, seed=4))
    net.eval()
    z = torch.randn(3, 8, generator=torch.Generator().manual_seed(2))
    labels = torch.tensor([[1, 2, 0], [0, 3, 2], [1, 0, 1]])  # gender, category, pose (their order)
    one_hot = criterion.buildLatentCriterion(labels)
    named = criterion.generateConstraintsFromVector(1, CONSTRAINT).view(1, classes)
    with torch.no_grad():
        images = net(torch.cat([z, one_hot], dim=1))
    record = {"shapes": shapes, "noise": 8, "weight_seed": 4, "attribKeysOrder": ATTRIBUTES, "constraint": CONSTRAINT}
    (out / "dcgan_acgan_tiny.json").write_text(json.dumps(record, indent=0, sort_keys=True) + "\n")
    save_file({"z": z, "labels": labels, "one_hot": one_hot, "named": named, "images": images},
              str(out / "dcgan_acgan_tiny.safetensors"))


if __name__ == "__main__":
    main(Path(sys.argv[2]))
    acgan(Path(sys.argv[2]))
