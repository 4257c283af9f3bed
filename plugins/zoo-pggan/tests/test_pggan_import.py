"""pytorch_GAN_zoo PGAN checkpoints convert exactly, checked against a golden file made by the original code.

tests/data/README.md says how it was made; ``fill`` (``zoo_core.importing.seeded_state_dict``) regenerates its weights from the recorded shapes.
"""

from __future__ import annotations

import json
import sys
import types
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
RECORD = json.loads((DATA / "pgan_tiny.json").read_text())
GOLDEN = load_file(DATA / "pgan_tiny.safetensors")


fill = partial(seeded_state_dict, std=1.0, bias_std=0.1)  # make_golden.py's weights: N(0, 1), biases N(0, 0.1^2)


def _hub_checkpoint(path: Path, avg: dict, raw: dict, monkeypatch) -> None:
    """Write the hub layout, including a pickled object of their BaseConfig class (faked here to pickle it)."""
    module = types.ModuleType("models.utils.config")

    class BaseConfig:
        pass

    BaseConfig.__module__, BaseConfig.__qualname__ = "models.utils.config", "BaseConfig"
    module.BaseConfig = BaseConfig
    config = BaseConfig()
    config.depthScale0, config.lossMode = 32, "WGANGP"
    with monkeypatch.context() as m:
        for name in ("models", "models.utils"):
            m.setitem(sys.modules, name, types.ModuleType(name))
        m.setitem(sys.modules, "models.utils.config", module)
        torch.save({"config": config, "netG": raw, "netD": {}, "avgG": avg}, path)


def test_generator_equals_the_original_and_the_averaged_one_is_taken(tmp_path, monkeypatch):
    avg = fill(RECORD["shapes"])
    raw = fill(RECORD["shapes"], seed=5)
    _hub_checkpoint(tmp_path / "celebaHQ_s6_i80000-6196db68.pth", avg, raw, monkeypatch)
    assert "models.utils.config" not in sys.modules  # loading below must not need (or import) their code
    assert detect(tmp_path / "celebaHQ_s6_i80000-6196db68.pth").name == "pytorch-gan-zoo-pgan"
    model = from_pretrained(convert(tmp_path / "celebaHQ_s6_i80000-6196db68.pth", tmp_path / "zoo"), device="cpu")
    assert model.resolution == 16 and model.config.level_channels == (32, 32, 16)
    z = GOLDEN["z"]
    with torch.no_grad():
        torch.testing.assert_close(model(z), GOLDEN["grown"], atol=1e-5, rtol=1e-5)
        # their alpha weights the older output; zoo's weights the newest block
        torch.testing.assert_close(model(z, level=2, alpha=0.7), GOLDEN["fading_0.3"], atol=1e-5, rtol=1e-5)
    images = model.generate(3, seed=0)
    assert images.shape == (3, 3, 16, 16) and images.abs().max() <= 1


def test_bare_state_dict_fine_tunes_and_bad_files_are_refused(tmp_path, capsys):
    from zoo_core.cli import main

    torch.save(fill(RECORD["shapes"]), tmp_path / "g.pth")
    assert detect(tmp_path / "g.pth") is None  # not a release name: --format says what it is
    folder = convert(tmp_path / "g.pth", tmp_path / "zoo", format="pytorch-gan-zoo-pgan")
    run = tmp_path / "run"
    main(["train", "pggan", "--init", str(folder), "--data", "builtin:shapes", "--steps", "1", "--batch-size", "2",
          "--out", str(run), "--no-progress", "--device", "cpu", "--sample-every", "100"])
    tuned, source = load_file(run / "final" / "model.safetensors"), load_file(folder / "model.safetensors")
    assert tuned.keys() == source.keys() and json.loads((run / "final" / "config.json").read_text())[
        "config"]["level_channels"] == [32, 32, 16]
    torch.save({"something": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(ZooError, match="not a pytorch_GAN_zoo PGAN checkpoint"):
        convert(tmp_path / "other.pth", tmp_path / "o", format="pytorch-gan-zoo-pgan")
