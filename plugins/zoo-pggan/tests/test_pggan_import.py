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
    from zoo_pggan.importers import check_training_config, convert_state, release_classes, zoo_config
    from zoo_pggan.model import PGGAN

    from zoo_core.config import build
    from zoo_core.importing import check_state

    documented, release = RELEASE_KEYS[name]["config"], RELEASES[name]
    with torch.device("meta"):
        state = {k: torch.empty(s) for k, s in RELEASE_KEYS[name]["shapes"].items()}
    listed = {spec.name: spec for spec in CATALOGUE}
    classes = release_classes({}, Path(name + ".pth"), {})  # DTD: an AC-GAN over its 47 classes
    assert classes == release.classes == documented["categoryVectorDim"]
    assert check_training_config({"categoryVectorDim": classes}, state, Path(name + ".pth")) == 0.0
    cfg = build(PGGANConfig, zoo_config(state, {}, classes))
    assert (cfg.res, cfg.z_dim, cfg.in_channels) == (release.res, documented["dimLatentVector"], documented["dimOutput"])
    assert (cfg.class_cond, cfg.num_classes) == (bool(classes), classes)
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
    ({"categoryVectorDim": 16}, "takes 16 inputs, too few for 16 classes after the noise"),
    ({"categoryVectorDim": "many"}, "class count .* is 'many'; expected a non-negative integer"),
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


# ------------------------------------------------------------------ AC-GAN (the DTD release's layout)
AC_RECORD = json.loads((DATA / "pgan_acgan_tiny.json").read_text())
AC_GOLDEN = load_file(DATA / "pgan_acgan_tiny.safetensors")


def test_an_ac_gan_generator_equals_the_original(tmp_path, monkeypatch):
    """Noise then a one-hot class, PixelNorm-ed together: the original GNet's output for classes 3, 0, 2."""
    path = tmp_path / "g.pth"
    weights = fill(AC_RECORD["shapes"], seed=AC_RECORD["weight_seed"])
    _hub_checkpoint(path, weights, {}, monkeypatch, depthOtherScales=[16], categoryVectorDim=AC_RECORD["classes"])
    model = from_pretrained(convert(path, tmp_path / "zoo", format="pytorch-gan-zoo-pgan"), device="cpu")
    assert (model.config.z_dim, model.num_classes, model.resolution) == (AC_RECORD["noise"], 4, 8)
    with torch.no_grad():
        out = model(AC_GOLDEN["z"], label=AC_GOLDEN["labels"])
        torch.testing.assert_close(out, AC_GOLDEN["grown"], atol=1e-5, rtol=1e-5)
        other = model(AC_GOLDEN["z"], label=torch.tensor([0, 3, 1]))
    assert (other - out).abs().amax(dim=(1, 2, 3)).min() > 1e-3  # the class changes every image
    # a bare state dict names its class count; without it the one-hot inputs would be taken for noise
    torch.save(weights, tmp_path / "bare.pth")
    bare = from_pretrained(convert(tmp_path / "bare.pth", tmp_path / "bare", format="pytorch-gan-zoo-pgan",
                                   num_classes=4), device="cpu")
    with torch.no_grad():
        torch.testing.assert_close(bare(AC_GOLDEN["z"], label=AC_GOLDEN["labels"]), AC_GOLDEN["grown"],
                                   atol=1e-5, rtol=1e-5)


def _dtd_release(tmp_path: Path, monkeypatch) -> Path:
    """The DTD release's layout (noise, then a one-hot of 47 classes) at 8x8 and small widths."""
    noise, classes = 12, 47
    shapes = {k: list(v) for k, v in AC_RECORD["shapes"].items()}
    shapes["formatLayer.module.weight"] = [shapes["formatLayer.module.weight"][0], noise + classes]
    path = tmp_path / "testDTD_s5_i96000-04efa39f.pth"
    _hub_checkpoint(path, fill(shapes), {}, monkeypatch, depthOtherScales=[16], categoryVectorDim=classes,
                    equalizedlR=True, perChannelNormalization=True, leakyReluLeak=0.2, lossCriterion="WGANGP")
    return path


def _class_folders(root: Path, classes: int) -> Path:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for k in range(classes):
        (root / f"c{k:02d}").mkdir(parents=True)
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(root / f"c{k:02d}" / "0.png")
    return root


def test_the_dtd_release_samples_a_chosen_class_and_fine_tunes(tmp_path, monkeypatch, capsys):
    import numpy as np
    from huggingface_hub import constants
    from PIL import Image

    from zoo_core.cli import main

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))  # where on-the-fly conversions go
    path = _dtd_release(tmp_path, monkeypatch)
    assert detect(path).name == "pytorch-gan-zoo-pgan"
    folder = convert(path, tmp_path / "zoo")
    model = from_pretrained(folder, device="cpu")
    assert (model.config.class_cond, model.num_classes, model.config.z_dim) == (True, 47, 12)
    main(["sample", str(path), "--n", "2", "--class", "3", "--seed", "5", "--out", str(tmp_path / "s"),
          "--device", "cpu"])  # converted on the fly
    first = np.asarray(Image.open(tmp_path / "s" / "00000.png")).astype(int)
    for label, agrees in ((3, True), (4, False)):
        expected = model.generate(2, seed=5, label=label)[0].add(1).mul(127.5).round().permute(1, 2, 0).numpy()
        assert (np.abs(first - expected).max() <= 1) == agrees
    with pytest.raises(ZooError, match=r"no value 47; valid values: an integer 0\.\.46"):
        model.generate(1, label=47)
    run = tmp_path / "run"
    main(["train", "pggan", "--init", str(path), "--class-cond", "--data", str(_class_folders(tmp_path / "d", 47)),
          "--steps", "2", "--batch-size", "4", "--out", str(run), "--no-progress", "--device", "cpu",
          "--sample-every", "100"])
    tuned, source = load_file(run / "final" / "model.safetensors"), load_file(folder / "model.safetensors")
    assert tuned.keys() == source.keys() and not torch.equal(tuned["net.dense.weight"], source["net.dense.weight"])
    saved = json.loads((run / "final" / "config.json").read_text())["config"]
    assert (saved["class_cond"], saved["num_classes"], saved["z_dim"]) == (True, 47, 12)
    metrics = (run / "metrics.jsonl").read_text()
    assert '"ac_d"' in metrics and '"ac_g"' in metrics
    capsys.readouterr()
    with pytest.raises(SystemExit):  # data with another class count
        main(["train", "pggan", "--init", str(folder), "--class-cond", "--data",
              str(_class_folders(tmp_path / "d3", 3)), "--steps", "1", "--batch-size", "2",
              "--out", str(tmp_path / "r3"), "--no-progress", "--device", "cpu"])
    assert "the model has 47 classes (--num-classes or the --init model) but the data has 3" in capsys.readouterr().err
    main(["list", "--pretrained", "--json"])
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    dtd = rows["testDTD_s5_i96000-04efa39f.pth"]
    assert (dtd["model"], dtd["res"], dtd["dataset"]) == ("pggan", 128, "DTD (textures)") and "47 classes" in dtd["summary"]


def test_class_and_attribute_names_are_kept(tmp_path, monkeypatch):
    """Their attribKeysOrder names the one-hot inputs: one attribute (DTD's textures) gives class names for
    --class NAME; several give attributes whose one-hots follow the noise in their ``order``."""
    weights = fill(AC_RECORD["shapes"], seed=AC_RECORD["weight_seed"])
    textures = {"Main": {"order": 0, "values": ["banded", "dotted", "woven", "braided"]}}
    path = tmp_path / "g.pth"
    _hub_checkpoint(path, weights, {}, monkeypatch, depthOtherScales=[16], categoryVectorDim=4, attribKeysOrder=textures)
    model = from_pretrained(convert(path, tmp_path / "dtd", format="pytorch-gan-zoo-pgan"), device="cpu")
    assert model.config.class_names == ("banded", "dotted", "woven", "braided")
    torch.testing.assert_close(model.generate(2, seed=1, label="braided"), model.generate(2, seed=1, label=3))
    with torch.no_grad():  # the golden's classes 3, 0, 2 by name
        named = torch.cat([model.labels_for(1, name, None) for name in ("braided", "banded", "woven")])
        torch.testing.assert_close(model(AC_GOLDEN["z"], label=named), AC_GOLDEN["grown"], atol=1e-5, rtol=1e-5)
    with pytest.raises(ZooError, match=r"no value 'striped'; valid values: one of banded, dotted, woven, braided \(or an index 0\.\.3\)"):
        model.generate(1, label="striped")

    two = {"size": {"order": 1, "values": ["small", "large"]}, "tone": {"order": 0, "values": ["dark", "light"]}}
    _hub_checkpoint(path, weights, {}, monkeypatch, depthOtherScales=[16], categoryVectorDim=4, attribKeysOrder=two)
    model = from_pretrained(convert(path, tmp_path / "two", format="pytorch-gan-zoo-pgan"), device="cpu")
    assert model.config.class_names == ("tone=dark", "tone=light", "size=small", "size=large")
    label = model.labels_for(2, "size=large,tone=dark", None)
    assert label.tolist() == [[0, 1], [0, 1]]
    with torch.no_grad():  # input = noise, then tone's one-hot, then size's, PixelNorm-ed together
        want = model.net(torch.cat([AC_GOLDEN["z"][:2], torch.tensor([[1.0, 0, 0, 1]] * 2)], dim=1), 1, 1.0)
        torch.testing.assert_close(model(AC_GOLDEN["z"][:2], label=label), want)
    with pytest.raises(ZooError, match=r"no attribute 'colour'; this model's attributes: tone \(2 values\)"):
        model.generate(1, label="colour=red")
