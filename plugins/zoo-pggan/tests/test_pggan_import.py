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


def _hub_checkpoint(path: Path, avg: dict, raw: dict, monkeypatch, **settings) -> None:
    """Write the hub layout, including a pickled object of their BaseConfig class (faked here to pickle it)."""
    module = types.ModuleType("models.utils.config")

    class BaseConfig:
        pass

    BaseConfig.__module__, BaseConfig.__qualname__ = "models.utils.config", "BaseConfig"
    module.BaseConfig = BaseConfig
    config = BaseConfig()
    config.depthScale0, config.lossMode = 32, "WGANGP"
    vars(config).update(settings)
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


# ------------------------------------------------------------------ the published releases' architectures
RELEASE_KEYS = json.loads((DATA / "pgan_release_keys.json").read_text())


@pytest.mark.parametrize("name", sorted(RELEASE_KEYS))
def test_each_release_config_builds_the_catalogued_architecture(name):
    """The key shapes the original code builds from each release's documented config all map onto zoo's net."""
    from zoo_pggan.catalogue import CATALOGUE, RELEASES
    from zoo_pggan.config import PGGANConfig
    from zoo_pggan.importers import check_training_config, convert_state, zoo_config
    from zoo_pggan.model import PGGAN

    from zoo_core.config import build
    from zoo_core.importing import check_state

    documented, release = RELEASE_KEYS[name]["config"], RELEASES[name]
    with torch.device("meta"):
        state = {k: torch.empty(s) for k, s in RELEASE_KEYS[name]["shapes"].items()}
    listed = {spec.name: spec for spec in CATALOGUE}
    if documented["categoryVectorDim"]:  # DTD: an AC-GAN; refused with the reason, not listed
        with pytest.raises(ZooError, match="takes 512 noise values then a one-hot of 47 classes"):
            check_training_config({"categoryVectorDim": documented["categoryVectorDim"]}, state, Path(name + ".pth"))
        assert f"{name}.pth" not in listed and release.classes == documented["categoryVectorDim"]
        return
    cfg = build(PGGANConfig, zoo_config(state, {}))
    assert (cfg.res, cfg.z_dim, cfg.in_channels) == (release.res, documented["dimLatentVector"], documented["dimOutput"])
    assert list(cfg.level_channels) == documented["depthScales"] == list(release.widths)
    assert listed[f"{name}.pth"].res == release.res
    with torch.device("meta"):
        model = PGGAN(cfg)
        converted = convert_state(state, model)
    check_state({k: tuple(v.shape) for k, v in model.state_dict().items()},
                {k: tuple(v.shape) for k, v in converted.items()}, name)


def test_a_small_celebahq_256_converts_end_to_end(tmp_path, monkeypatch):
    """celebAHQ-256's depth (7 levels, 4 -> 256) at 1/16 of its widths, its full config pickled beside it."""
    widths = [w // 16 for w in RELEASE_KEYS["celebaHQ_s6_i80000-6196db68"]["config"]["depthScales"]]
    shapes = {"formatLayer.module.weight": [16 * widths[0], 8], "formatLayer.module.bias": [16 * widths[0]],
              "groupScale0.0.module.weight": [widths[0], widths[0], 3, 3], "groupScale0.0.module.bias": [widths[0]]}
    for k, c in enumerate(widths):
        shapes |= {f"toRGBLayers.{k}.module.weight": [3, c, 1, 1], f"toRGBLayers.{k}.module.bias": [3]}
        if k:
            shapes |= {f"scaleLayers.{k - 1}.0.module.weight": [c, widths[k - 1], 3, 3],
                       f"scaleLayers.{k - 1}.0.module.bias": [c], f"scaleLayers.{k - 1}.1.module.weight": [c, c, 3, 3],
                       f"scaleLayers.{k - 1}.1.module.bias": [c]}
    path = tmp_path / "celebaHQ_s6_i80000-6196db68.pth"
    _hub_checkpoint(path, fill(shapes), fill(shapes, seed=1), monkeypatch, depthScale0=widths[0],
                    depthOtherScales=widths[1:], equalizedlR=True, perChannelNormalization=True, leakyReluLeak=0.2,
                    lossCriterion="WGANGP", categoryVectorDim=0, alpha=0.0, attribKeysOrder=None)
    model = from_pretrained(convert(path, tmp_path / "zoo"), device="cpu")
    assert model.resolution == 256 and list(model.config.level_channels) == widths
    assert model.generate(1, seed=0).shape == (1, 3, 256, 256)


def test_their_blend_alpha_is_kept(tmp_path, monkeypatch):
    """A checkpoint saved mid-fade (their alpha 0.3) samples as the original does at that alpha."""
    path = tmp_path / "g.pth"
    _hub_checkpoint(path, fill(RECORD["shapes"]), {}, monkeypatch, depthOtherScales=[32, 16], alpha=0.3)
    model = from_pretrained(convert(path, tmp_path / "zoo", format="pytorch-gan-zoo-pgan"), device="cpu")
    with torch.no_grad():
        torch.testing.assert_close(model(GOLDEN["z"]), GOLDEN["fading_0.3"], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("settings, match", [
    ({"categoryVectorDim": 4}, "class-conditional .* takes 12 noise values then a one-hot of 4 classes"),
    ({"equalizedlR": False}, "trained with equalizedlR=False; zoo pggan computes only equalizedlR=True"),
    ({"lossCriterion": "DCGAN"}, "lossCriterion='DCGAN' \\(a tanh output\\)"),
    ({"leakyReluLeak": 0.1}, "leakyReluLeak=0.1"),
    ({"depthOtherScales": [32]}, "its config lists widths \\[32, 32\\], its weights have \\[32, 32, 16\\]"),
    ({"alpha": 2.0}, "blend alpha 2.0"),
])
def test_settings_zoo_cannot_reproduce_are_refused(settings, match, tmp_path, monkeypatch):
    path = tmp_path / "g.pth"
    _hub_checkpoint(path, fill(RECORD["shapes"]), {}, monkeypatch, **{"depthOtherScales": [32, 16], **settings})
    with pytest.raises(ZooError, match=match):
        convert(path, tmp_path / "zoo", format="pytorch-gan-zoo-pgan")
