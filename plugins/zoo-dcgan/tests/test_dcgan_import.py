"""pytorch_GAN_zoo's DCGAN checkpoint converts exactly, checked against a golden file made by the original code.

tests/data/README.md says how it was made; ``fill`` (``zoo_core.importing.seeded_state_dict``) regenerates its weights from the recorded shapes.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from zoo_core import from_pretrained
from zoo_core.convert import convert, detect
from zoo_core.errors import ZooError
from zoo_core.importing import seeded_state_dict

DATA = Path(__file__).parent / "data"
SHAPES = json.loads((DATA / "dcgan_tiny.json").read_text())["shapes"]
GOLDEN = load_file(DATA / "dcgan_tiny.safetensors")


fill = partial(seeded_state_dict, std=0.2)  # make_golden.py's weights, regenerated: floats N(0, 0.2^2)


def test_generator_equals_the_original(tmp_path):
    path = tmp_path / "DCGAN_fashionGen-1d67302.pth"
    torch.save({"netG": fill(SHAPES, seed=3), "netD": {}, "avgG": fill(SHAPES)}, path)  # hub layout, avgG used
    assert detect(path).name == "pytorch-gan-zoo-dcgan"
    model = from_pretrained(convert(path, tmp_path / "zoo"), device="cpu")
    assert (model.config.res, model.config.channels, model.config.z_dim) == (64, 4, 8)
    with torch.no_grad():
        torch.testing.assert_close(model.net(GOLDEN["z"]), GOLDEN["images"], atol=1e-5, rtol=1e-5)


def test_other_files_are_refused(tmp_path):
    torch.save({"netG": {"x": torch.zeros(1)}}, tmp_path / "g.pth")
    with pytest.raises(ZooError, match="not a pytorch_GAN_zoo DCGAN checkpoint"):
        convert(tmp_path / "g.pth", tmp_path / "o", format="pytorch-gan-zoo-dcgan")


def test_converted_model_samples_and_fine_tunes(tmp_path, monkeypatch):
    from huggingface_hub import constants

    from zoo_core.cli import main

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))  # where on-the-fly conversions go
    path = tmp_path / "DCGAN_fashionGen-1d67302.pth"
    torch.save({"avgG": fill(SHAPES)}, path)
    grid = tmp_path / "grid.png"
    main(["sample", str(path), "--n", "4", "--out", str(grid), "--device", "cpu"])  # converted on the fly
    assert grid.is_file()
    folder = convert(path, tmp_path / "zoo")
    run = tmp_path / "run"
    main(["train", "dcgan", "--init", str(folder), "--data", "builtin:shapes", "--steps", "1", "--batch-size", "4",
          "--out", str(run), "--no-progress", "--device", "cpu", "--sample-every", "100"])
    tuned, source = load_file(run / "final" / "model.safetensors"), load_file(folder / "model.safetensors")
    assert tuned.keys() == source.keys()
    assert json.loads((run / "final" / "config.json").read_text())["config"]["channels"] == 4


def test_a_one_attribute_ac_gan_is_zoo_class_conditioning():
    """Their AC-GAN input is the noise then a one-hot class: zoo's class_cond G computes the same function."""
    from zoo_dcgan.importers import class_inputs, generator

    config = {"lossCriterion": "DCGAN", "categoryVectorDim": 3, "attribKeysOrder": {"Main": {"order": 0,
              "values": ["dress", "shirt", "shoe"]}}}
    weights = fill(SHAPES)
    conditional = generator(weights, class_inputs(config, Path("g.pth")), "g.pth")
    plain = generator(weights, class_inputs({}, Path("g.pth")), "g.pth")  # golden-checked above: their G exactly
    assert (conditional.config.z_dim, conditional.config.num_classes, plain.config.z_dim) == (5, 3, 8)
    z, label = GOLDEN["z"][:, :5], torch.tensor([2, 0])
    with torch.no_grad():
        want = plain.net(torch.cat([z, torch.nn.functional.one_hot(label, 3).float()], dim=1))
        torch.testing.assert_close(conditional.net(z, label), want, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("config, match", [
    ({"lossCriterion": "WGANGP"}, "lossCriterion='WGANGP', which has no tanh output"),
    ({"categoryVectorDim": "3"}, "categoryVectorDim '3'; expected an integer"),
])
def test_generators_zoo_cannot_compute_are_refused(config, match):
    from zoo_dcgan.importers import class_inputs

    with pytest.raises(ZooError, match=match):
        class_inputs(config, Path("DCGAN_fashionGen-1d67302.pth"))
