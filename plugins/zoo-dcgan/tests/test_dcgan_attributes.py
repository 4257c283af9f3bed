"""AC-GAN over several named attributes (pytorch_GAN_zoo's FashionGen release) and class names kept by dcgan.

The golden file (tests/data/README.md) holds their ACGANCriterion's one-hots and their GNet's images for a
three-attribute config; the rest checks the release's layout end to end: convert, sample by name, load, fine-tune
on a folder with an attributes.json.
"""

from __future__ import annotations

import json
import sys
import types
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from zoo_core import from_pretrained
from zoo_core.cli import main
from zoo_core.convert import convert
from zoo_core.errors import ZooError
from zoo_core.gan.acgan import one_hot_after
from zoo_core.importing import seeded_state_dict

DATA = Path(__file__).parent / "data"
RECORD = json.loads((DATA / "dcgan_acgan_tiny.json").read_text())
GOLDEN = load_file(DATA / "dcgan_acgan_tiny.safetensors")
SHAPES = json.loads((DATA / "dcgan_tiny.json").read_text())["shapes"]  # 64 px, as the hub release
fill = partial(seeded_state_dict, std=0.2)  # make_golden.py's rule
# the FashionGen release's layout: 120 inputs = 100 noise values (dcgan_config.py's default) + 20 one-hots
FASHION = {"gender": {"order": 0, "values": ["M", "F"]},
           "category": {"order": 1, "values": [f"C{i}" for i in range(13)]},
           "pose": {"order": 2, "values": ["id_gridfs_1", "id_gridfs_2", "id_gridfs_3", "id_gridfs_4", "id_gridfs_5"]}}


def hub_checkpoint(path: Path, avg: dict, monkeypatch, **settings) -> Path:
    """Their hub layout with a pickled object of their BaseConfig class (faked here only to pickle it)."""
    module = types.ModuleType("models.utils.config")
    base = type("BaseConfig", (), {"__module__": "models.utils.config"})
    module.BaseConfig = base
    config = base()
    vars(config).update(settings)
    with monkeypatch.context() as m:
        for name in ("models", "models.utils"):
            m.setitem(sys.modules, name, types.ModuleType(name))
        m.setitem(sys.modules, "models.utils.config", module)
        torch.save({"config": config, "netG": {}, "netD": {}, "avgG": avg}, path)
    return path


def test_several_attributes_equal_the_original(tmp_path, monkeypatch):
    """Segments in their ``order`` (not the dict's), named values, and their GNet's images for [z, one-hots]."""
    attributes = RECORD["attribKeysOrder"]
    path = hub_checkpoint(tmp_path / "DCGAN_fashionGen-1d67302.pth", fill(RECORD["shapes"], seed=RECORD["weight_seed"]),
                          monkeypatch, lossCriterion="DCGAN", categoryVectorDim=9, attribKeysOrder=attributes)
    model = from_pretrained(convert(path, tmp_path / "zoo"), device="cpu")
    assert (model.config.z_dim, model.config.num_classes, model.layout.sizes) == (8, 9, (2, 4, 3))
    assert model.config.class_names[:3] == ("gender=man", "gender=woman", "category=coat")
    z, labels = GOLDEN["z"], GOLDEN["labels"]
    with torch.no_grad():
        torch.testing.assert_close(one_hot_after(z, labels, model.layout.sizes)[:, 8:], GOLDEN["one_hot"])
        torch.testing.assert_close(model(z, labels), GOLDEN["images"], atol=1e-5, rtol=1e-5)
    named = model.labels_for(1, RECORD["constraint"], None)  # {attribute: value name}, as their constraints
    torch.testing.assert_close(one_hot_after(z[:1], named, model.layout.sizes)[:, 8:], GOLDEN["named"])
    chosen = model.labels_for(2, "pose=side , gender=1", torch.Generator())  # a name or an index; category drawn
    assert chosen[:, [0, 2]].tolist() == [[1, 2], [1, 2]]


def test_attribute_choices_draw_the_rest_and_name_the_valid_ones(tmp_path, monkeypatch):
    path = hub_checkpoint(tmp_path / "DCGAN_fashionGen-1d67302.pth", fill(RECORD["shapes"], seed=4), monkeypatch,
                          categoryVectorDim=9, attribKeysOrder=RECORD["attribKeysOrder"])
    model = from_pretrained(convert(path, tmp_path / "zoo"), device="cpu")
    g = torch.Generator().manual_seed(0)
    chosen = model.labels_for(64, "category=shoe", g)
    assert chosen.shape == (64, 3) and set(chosen[:, 1].tolist()) == {3}
    assert set(chosen[:, 0].tolist()) == {0, 1} and set(chosen[:, 2].tolist()) == {0, 1, 2}  # drawn
    same = model.generate(2, seed=3, label={"gender": "woman", "category": "dress", "pose": "back"})
    torch.testing.assert_close(same, model.generate(2, seed=3, label="gender=woman,category=dress,pose=back"))
    frames = model.interpolate(5, 9, 3)  # keeps seed 5's attributes: the first frame is generate(1, seed=5)
    torch.testing.assert_close(frames[0], model.generate(1, seed=5)[0], atol=1e-6, rtol=0)
    for label, match in (("category=hat", r"no category value 'hat'; valid category values: one of coat, dress, "
                                          r"shirt, shoe \(or an index 0..3\)"),
                         ("colour=red", r"no attribute 'colour'; this model's attributes: gender \(2 values\), "
                                        r"category \(4 values\), pose \(3 values\)"),
                         ("woman", "ATTRIBUTE=VALUE"), (3, "ATTRIBUTE=VALUE")):
        with pytest.raises(ZooError, match=match):
            model.generate(1, label=label)


def _attribute_folder(root: Path, table: dict[str, dict]) -> Path:
    rng = np.random.default_rng(0)
    for name in table:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(root / name)
    (root / "attributes.json").write_text(json.dumps({k: v for k, v in table.items() if v}))
    return root


def test_the_fashiongen_layout_converts_samples_by_name_and_fine_tunes(tmp_path, monkeypatch, capsys):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))  # where on-the-fly conversions go
    shapes = {**SHAPES, "formatLayer.weight": [120, *SHAPES["formatLayer.weight"][1:]]}
    path = hub_checkpoint(tmp_path / "DCGAN_fashionGen-1d67302.pth", fill(shapes), monkeypatch, lossCriterion="DCGAN",
                          categoryVectorDim=20, attribKeysOrder=FASHION)
    out = tmp_path / "s"
    main(["sample", str(path), "--n", "2", "--class", "gender=F,category=C7", "--out", str(out), "--device", "cpu"])
    folder = convert(path, tmp_path / "zoo")
    model = from_pretrained(folder, device="cpu")
    assert (model.config.z_dim, model.layout.sizes, model.net.net[0].in_channels) == (100, (2, 13, 5), 120)
    want = model.generate(2, seed=0, label={"gender": "F", "category": "C7"})
    got = np.asarray(Image.open(out / "00000.png")).astype(int)
    assert np.abs(got - want[0].add(1).mul(127.5).round().permute(1, 2, 0).numpy()).max() <= 1
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["sample", str(folder), "--class", "category=C99", "--out", str(tmp_path / "x.png"), "--device", "cpu"])
    assert "no category value 'C99'; valid category values: one of C0, C1," in capsys.readouterr().err

    table = {"a.png": {"gender": "F", "category": "C3", "pose": "id_gridfs_2"},
             "b.png": {"gender": "M", "category": "C12"},  # pose unknown: -1, skipped by the class loss
             "sub/c.png": {"gender": "F", "category": "C0", "pose": "id_gridfs_5"}, "d.png": {}}  # d: unlisted
    data = _attribute_folder(tmp_path / "data", table)
    run = tmp_path / "run"
    main(["train", "dcgan", "--init", str(folder), "--data", str(data), "--steps", "2", "--batch-size", "2",
          "--out", str(run), "--no-progress", "--device", "cpu", "--sample-every", "100"])
    tuned, source = load_file(run / "final" / "model.safetensors"), load_file(folder / "model.safetensors")
    assert not torch.equal(tuned["net.net.0.weight"], source["net.net.0.weight"])
    saved = json.loads((run / "final" / "config.json").read_text())["config"]
    assert saved["class_names"] == list(model.config.class_names) and saved["num_classes"] == 20
    assert '"ac_d"' in (run / "metrics.jsonl").read_text()

    common = ["--steps", "1", "--batch-size", "2", "--no-progress", "--device", "cpu"]
    (data / "attributes.json").rename(data / "kept.json")
    with pytest.raises(SystemExit):  # no labels for a multi-attribute model
        main(["train", "dcgan", "--init", str(folder), "--data", str(data), "--out", str(tmp_path / "r1"), *common])
    assert "add an attributes.json to the image folder" in capsys.readouterr().err
    (data / "attributes.json").write_text(json.dumps({"a.png": {"gender": "X", "category": "C3"}}))
    with pytest.raises(SystemExit):  # a value the model does not know
        main(["train", "dcgan", "--init", str(folder), "--data", str(data), "--out", str(tmp_path / "r2"), *common])
    assert "attribute 'gender' 'X' are unknown to the model (it knows M, F)" in capsys.readouterr().err


def test_fine_tuning_data_are_reindexed_onto_the_models_order(tmp_path):
    """Data values are sorted (M < F is false: F, M); the model's order (M, F) is what its one-hots mean."""
    from zoo_dcgan.config import DCGANConfig
    from zoo_dcgan.model import DCGAN

    from zoo_core.data import DataConfig, info_of, open_source

    table = {"a.png": {"gender": "M", "pose": "p1"}, "b.png": {"gender": "F"}, "c.png": {"pose": "p0"}}
    source = open_source(DataConfig(data=str(_attribute_folder(tmp_path / "d", table))), 16)
    info = info_of(source)
    assert info.attributes == ["gender=F", "gender=M", "pose=p0", "pose=p1"] and info.class_names == []
    assert source.labels == [(1, 1), (0, -1), (-1, 0)]
    names = ("gender=M", "gender=F", "category=x", "category=y", "pose=p1", "pose=p0")
    cfg = DCGANConfig(res=16, channels=4, z_dim=8, class_cond=True, num_classes=6, class_names=names)
    assert DCGAN.adapt_config(cfg, info) == cfg
    assert source.labels == [(0, -1, 0), (1, -1, -1), (-1, -1, 1)]  # the model's attributes and values, in place


def test_class_folders_named_like_the_model_are_reindexed_others_renamed():
    """A converted DTD-like model lists its classes unsorted; class folders (sorted) are matched by name."""
    from zoo_dcgan.config import DCGANConfig
    from zoo_dcgan.model import DCGAN

    from zoo_core.data import DataInfo

    cfg = DCGANConfig(res=16, channels=4, z_dim=8, class_cond=True, num_classes=3, class_names=("woven", "banded",
                                                                                               "dotted"))
    info = DataInfo(size=3, num_classes=2, class_names=["banded", "woven"], labels=[0, 1, -1])
    assert DCGAN.adapt_config(cfg, info) == cfg and info.labels == [1, 0, -1]
    other = DataInfo(size=3, num_classes=3, class_names=["x", "y", "z"], labels=[0, 1, 2])
    assert DCGAN.adapt_config(cfg, other).class_names == ("x", "y", "z") and other.labels == [0, 1, 2]
    with pytest.raises(ZooError, match="the model has 3 classes .* but the data has 2"):
        DCGAN.adapt_config(cfg, DataInfo(size=2, num_classes=2, class_names=["x", "y"], labels=[0, 1]))


def test_class_folder_names_are_kept_and_sampled_by_name(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for i, name in enumerate(["circle", "square", "circle", "square"]):
        (tmp_path / "d" / name).mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(tmp_path / "d" / name / f"{i}.png")
    run = tmp_path / "run"
    main(["train", "dcgan", "--res", "16", "--channels", "4", "--z-dim", "8", "--class-cond", "--data",
          str(tmp_path / "d"), "--steps", "1", "--batch-size", "2", "--out", str(run), "--no-progress",
          "--device", "cpu", "--sample-every", "100"])
    model = from_pretrained(run, device="cpu")
    assert model.config.class_names == ("circle", "square")
    torch.testing.assert_close(model.generate(2, seed=1, label="square"), model.generate(2, seed=1, label=1))
    for label, index in (("square", 1), ("1", 1)):  # text names a class; digits are an index
        main(["sample", str(run), "--class", label, "--n", "2", "--out", str(tmp_path / label), "--device", "cpu"])
        want = model.generate(2, seed=0, label=index)[1].add(1).mul(127.5).round().permute(1, 2, 0).numpy()
        assert np.abs(np.asarray(Image.open(tmp_path / label / "00001.png")).astype(int) - want).max() <= 1
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["sample", str(run), "--class", "triangle", "--out", str(tmp_path / "x.png"), "--device", "cpu"])
    assert "no value 'triangle'; valid values: one of circle, square (or an index 0..1)" in \
        capsys.readouterr().err


@pytest.mark.parametrize("attributes, match", [
    ({"input_gender": {}, "input_category": {}}, r"attribKeysOrder is not \{attribute: \{'order'"),
    ({"a": {"order": 0, "values": ["x", "y"]}, "b": {"order": 0, "values": ["z"]}}, r"orders \[0, 0\], 3 values"),
    ({"a": {"order": 0, "values": ["x", "y"]}, "b": {"order": 1, "values": ["z"]}}, "does not describe its "
     "generator's 4 class inputs"),
    ({"a": {"order": 0, "values": ["x", "x"]}, "b": {"order": 1, "values": ["z", "w"]}}, "repeats 'x'"),
    ({"a=b": {"order": 0, "values": ["x", "y"]}, "c": {"order": 1, "values": ["z", "w"]}}, "cannot keep apart"),
])
def test_attribute_tables_that_do_not_fit_are_refused(attributes, match):
    from zoo_core.gan.acgan import gan_zoo_class_names

    with pytest.raises(ZooError, match=match):
        gan_zoo_class_names(attributes, 4, "g.pth")


def test_a_class_named_by_digits_is_taken_by_name(tmp_path):
    """Sorted folder names "10" < "2": ``--class 2`` means the folder "2" (index 1), not index 2."""
    from zoo_dcgan.config import DCGANConfig
    from zoo_dcgan.model import DCGAN

    torch.manual_seed(0)
    model = DCGAN(DCGANConfig(res=16, channels=4, z_dim=8, class_cond=True, num_classes=2, class_names=("10", "2")))
    folder = model.eval().save_pretrained(tmp_path / "m")
    main(["sample", str(folder), "--class", "2", "--n", "2", "--out", str(tmp_path / "s"), "--device", "cpu"])
    want = model.generate(2, seed=0, label=1)[1].add(1).mul(127.5).round().permute(1, 2, 0).numpy()
    assert np.abs(np.asarray(Image.open(tmp_path / "s" / "00001.png")).astype(int) - want).max() <= 1
