"""Class names and several attributes (zoo_core.labels), and the AC-GAN input and loss built from them."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from sample_data import make_images

from zoo_core.data import DataConfig, ImageDataset, info_of, open_source
from zoo_core.errors import ZooError
from zoo_core.gan.acgan import class_loss, one_hot_after
from zoo_core.labels import ClassLayout, relabel

NAMES = ("gender=M", "gender=F", "pose=a", "pose=b", "pose=c")


def test_layouts_of_names():
    assert ClassLayout.of(0) == ClassLayout((), (), ())
    assert ClassLayout.of(3) == ClassLayout(("",), ((),), (3,))  # unnamed classes
    one = ClassLayout.of(2, ["a=1", "a=2"])  # one attribute prefix: plain class names, "=" and all
    assert (one.multi, one.values, one.names()) == (False, (("a=1", "a=2"),), ["a=1", "a=2"])
    multi = ClassLayout.of(5, NAMES)
    assert (multi.multi, multi.attributes, multi.sizes, multi.names()) == (True, ("gender", "pose"), (2, 3), list(NAMES))
    for count, names, match in ((4, NAMES, "5 names for 4 classes"),
                                (3, ["a=x", "b=y", "a=z"], "values of attribute 'a' must be listed together"),
                                (3, ["x", "y", "x"], "repeats 'x'")):
        with pytest.raises(ValueError, match=match):
            ClassLayout.of(count, names)


def test_choices_by_name_index_mapping_or_sequence():
    layout = ClassLayout.of(5, NAMES)
    assert layout.choice("pose=c") == {1: 2}
    assert layout.choice("gender=F, pose=0") == {0: 1, 1: 0}
    assert layout.choice({"gender": 0}) == {0: 0}
    assert layout.choice([1, 2]) == {0: 1, 1: 2}
    with pytest.raises(ZooError, match=r"^--class: no pose value 'd'; valid pose values: one of a, b, c \(or an "
                                       r"index 0..2\)$"):
        layout.choice("pose=d")
    with pytest.raises(ZooError, match=r"no gender value 3"):
        layout.choice([3, 0])
    with pytest.raises(ZooError, match=r"^--class: no attribute 'size'; this model's attributes: gender \(2 values\), "
                                       r"pose \(3 values\)$"):
        layout.choice("size=XL")


def test_one_hots_in_attribute_order_and_the_summed_class_loss():
    z = torch.zeros(2, 1)
    x = one_hot_after(z, torch.tensor([[1, 2], [0, 0]]), (2, 3))
    assert x.tolist() == [[0, 0, 1, 0, 0, 1], [0, 1, 0, 1, 0, 0]]
    assert torch.equal(one_hot_after(z, torch.tensor([2, 0]), 3)[:, 1:], F.one_hot(torch.tensor([2, 0]), 3).float())
    with pytest.raises(ValueError, match="expected 2 label"):
        one_hot_after(z, torch.tensor([1, 0]), (2, 3))
    logits = torch.randn(3, 5, generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([[1, -1], [0, 2], [-1, 1]])  # -1: unknown, skipped per attribute
    loss, acc = class_loss(logits, labels, (2, 3))
    want = F.cross_entropy(logits[:2, :2], torch.tensor([1, 0])) + F.cross_entropy(logits[1:, 2:], torch.tensor([2, 1]))
    torch.testing.assert_close(loss, want)
    assert 0 <= acc <= 1
    single, _ = class_loss(logits, torch.tensor([4, -1, 0]), (5,))  # one attribute: the plain cross-entropy
    torch.testing.assert_close(single, F.cross_entropy(logits[[0, 2]], torch.tensor([4, 0])))
    assert class_loss(logits, torch.full((3, 2), -1), (2, 3)) == (None, None)


def test_attributes_json_labels_a_folder(tmp_path):
    paths = make_images(tmp_path / "d", n=4, classes=("x", "y"))
    rel = [p.relative_to(tmp_path / "d").as_posix() for p in paths]
    table = {rel[0]: {"size": "L", "colour": "red"}, rel[1]: {"size": "S"}, rel[2]: {"colour": 3}, "gone.png": {}}
    (tmp_path / "d" / "attributes.json").write_text(json.dumps(table))
    cfg = DataConfig(data=str(tmp_path / "d"))
    ds = ImageDataset(open_source(cfg, 8), 8, 3, cfg)
    info = info_of(ds.source)  # the file wins over the class folders; attributes and values sorted
    assert (info.attributes, info.class_names, info.num_classes) == (["colour=3", "colour=red", "size=L", "size=S"], [], 0)
    assert ds.source.labels == [(1, 0), (0, -1), (-1, 1), (-1, -1)]  # sorted paths: x/img000, x/img002, y/...
    assert torch.equal(ds[(0, 0)]["label"], torch.tensor([1, 0]))
    folders = info_of(open_source(DataConfig(data=str(tmp_path / "d"), labels="folders"), 8))
    assert folders.class_names == ["x", "y"] and folders.attributes == []
    (tmp_path / "d" / "attributes.json").write_text(json.dumps({rel[0]: {"size": "L"}, rel[3]: {"size": "M"}}))
    one = info_of(open_source(cfg, 8))  # one attribute: plain class labels
    assert (one.class_names, one.labels, one.attributes) == (["L", "M"], [0, -1, -1, 1], [])


@pytest.mark.parametrize("text, match", [
    ("[1]", r"must hold a JSON object \(the label file\)"),
    ('{"x.png": [1]}', "must map each image path"),
    ('{"x.png": {"a": 1}}', "names none of the 4 images"),
    ("{", "is not valid JSON"),
])
def test_bad_attribute_files(tmp_path, text, match):
    make_images(tmp_path / "d", n=4, classes=None)
    (tmp_path / "d" / "attributes.json").write_text(text)
    with pytest.raises(ZooError, match=match):
        open_source(DataConfig(data=str(tmp_path / "d")), 8)


def test_relabel_matches_names():
    data = ClassLayout.of(3, ["gender=F", "gender=M", "pose=b"])
    model = ClassLayout.of(5, NAMES)
    assert relabel([(0, 0), (1, -1)], data, model) == [(1, 1), (0, -1)]
    assert relabel([1, 0, -1], ClassLayout.of(2, ["b", "a"]), ClassLayout.of(3, ["a", "b", "c"])) == [0, 1, -1]
    with pytest.raises(ZooError, match="attribute 'size', which the model is not conditioned on"):
        relabel([(0, 0)], ClassLayout.of(3, ["gender=F", "size=S", "size=L"]), model)
    with pytest.raises(ZooError, match=r"class names 'd' are unknown to the model \(it knows a, b, c\)"):
        relabel([0], ClassLayout.of(2, ["a", "d"]), ClassLayout.of(3, ["a", "b", "c"]))


def test_long_name_lists_are_cut_in_messages():
    from zoo_core.labels import ClassLayout, name_list

    names = [f"c{i}" for i in range(100)]
    assert name_list(names) == ", ".join(names[:20]) + ", ... (80 more)"
    with pytest.raises(ZooError) as err:
        ClassLayout.of(100, names).value_index(0, "nope")
    assert "c19, ... (80 more)" in str(err.value) and "c20," not in str(err.value)


def _png(path):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4)).save(path)
    return path


def test_the_label_source_is_chosen_before_labels_are_read(tmp_path):
    from zoo_core.labels import image_labels

    paths = [_png(tmp_path / f) for f in ("cat/1.png", "cat/2.png", "dog/3.png")]
    assert image_labels(tmp_path, paths) == (["cat", "dog"], [0, 0, 1], [])
    assert image_labels(tmp_path, paths, "none") == ([], [-1, -1, -1], [])
    (tmp_path / "attributes.json").write_text(json.dumps({"cat/1.png": {"size": "big"}, "dog/3.png": {"size": "small"}}))
    assert image_labels(tmp_path, paths) == (["big", "small"], [0, -1, 1], [])  # the file wins over folders
    assert image_labels(tmp_path, paths, "folders") == (["cat", "dog"], [0, 0, 1], [])
    loose = [*paths, _png(tmp_path / "4.png")]
    (tmp_path / "attributes.json").unlink()
    assert image_labels(tmp_path, loose) == ([], [-1] * 4, [])  # an image beside the folders: unlabelled
    with pytest.raises(ZooError, match="some images lie directly in"):
        image_labels(tmp_path, loose, "folders")
