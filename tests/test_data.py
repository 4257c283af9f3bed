"""Image folders, captions, preprocessing, built-in data, the resumable stream and data errors."""

from __future__ import annotations

import json

import pytest
import torch
from sample_data import make_images

from zoo_core.data import DataConfig, ImageDataset, StreamSampler, info_of, open_source
from zoo_core.errors import ZooError


def dataset(root, res=8, channels=3, **kw):
    cfg = DataConfig(data=str(root), **kw)
    return ImageDataset(open_source(cfg, res), res, channels, cfg)


def test_folder_labels_shapes_and_range(image_dir):
    ds = dataset(image_dir)
    info = info_of(ds.source)
    assert info.num_classes == 2 and info.class_names == ["a", "b"]
    item = ds[(7, 123)]  # sorted paths: a/ first, then b/
    assert item["image"].shape == (3, 8, 8)
    assert item["image"].min() >= -1 and item["image"].max() <= 1
    assert item["label"] == 1


def test_labels_none_and_nested_depth(tmp_path):
    make_images(tmp_path / "d" / "x" / "deep", n=3, classes=None)
    make_images(tmp_path / "d" / "y", n=3, classes=None)
    ds = dataset(tmp_path / "d", labels="none")
    assert len(ds) == 6 and set(ds.source.labels) == {-1}


def test_captions_from_metadata_and_txt(tmp_path):
    paths = make_images(tmp_path / "c", n=3, classes=None)
    (tmp_path / "c" / "metadata.jsonl").write_text(json.dumps({"file_name": paths[0].name, "text": "a cat"}) + "\n")
    paths[1].with_suffix(".txt").write_text("a dog\nthe same dog\n")
    ds = dataset(tmp_path / "c")
    assert ds.source.captions[0] == ["a cat"]
    assert ds.source.captions[1] == ["a dog", "the same dog"]
    assert ds[(1, 5)]["caption"] in ("a dog", "the same dog")
    assert info_of(ds.source).has_captions


@pytest.mark.parametrize("mode,channels", [("L", 3), ("RGBA", 3), ("RGB", 1)])
def test_channel_conversion(tmp_path, mode, channels):
    make_images(tmp_path / "m", n=2, classes=None, mode=mode)
    assert dataset(tmp_path / "m", channels=channels)[(0, 0)]["image"].shape[0] == channels


def test_recipe_crops(tmp_path):
    make_images(tmp_path / "r", n=2, size=40, classes=None)
    ds = dataset(tmp_path / "r", res=16, center_crop=36, resize=20, random_crop=16, flip=True)
    a, b = ds[(0, 1)]["image"], ds[(0, 1)]["image"]
    assert a.shape == (3, 16, 16) and torch.equal(a, b)  # same item seed, same crop
    assert any(not torch.equal(a, ds[(0, s)]["image"]) for s in range(2, 12))  # crops/flips vary


def test_errors(tmp_path):
    with pytest.raises(ZooError, match="does not exist"):
        dataset(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ZooError, match="no images"):
        dataset(tmp_path / "empty")
    with pytest.raises(ZooError, match="--data is required"):
        open_source(DataConfig(), 8)
    bad = tmp_path / "bad"
    bad.mkdir()
    for i in range(3):
        (bad / f"x{i}.png").write_bytes(b"not a png")
    with pytest.raises(ZooError, match="none of the 3 image files"):
        dataset(bad)
    make_images(bad, n=2, classes=None)
    with pytest.warns(UserWarning, match="skipped 3 unreadable"):
        assert len(dataset(bad)) == 2
    with pytest.raises(ZooError, match="smaller than the 64px crop"):
        dataset(tmp_path / "bad", center_crop=64)
    with pytest.raises(ZooError, match="larger than --resize"):
        dataset(tmp_path / "bad", resize=8, random_crop=10)


def test_a_gigapixel_header_is_skipped_not_decoded(tmp_path, monkeypatch):
    """A PNG whose header claims more pixels than PIL decodes safely (a decompression bomb) is named and skipped."""
    from PIL import Image

    make_images(tmp_path / "d", n=2, classes=None, size=8)
    Image.new("L", (64, 64)).save(tmp_path / "d" / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 64 x 64 > 2 x 1000: PIL refuses to open it
    with pytest.warns(UserWarning, match=r"skipped 1 image file\(s\) .* too large to decode safely .*bomb.png"):
        assert len(dataset(tmp_path / "d")) == 2
    (tmp_path / "only").mkdir()
    Image.new("L", (64, 64)).save(tmp_path / "only" / "bomb.png")
    with pytest.raises(ZooError, match="none of the 1 image files .* too large to decode safely"):
        dataset(tmp_path / "only")


def test_builtin_shapes_deterministic():
    a = open_source(DataConfig(data="builtin:shapes"), 16, seed=3)
    b = open_source(DataConfig(data="builtin:shapes"), 16, seed=3)
    c = open_source(DataConfig(data="builtin:shapes"), 16, seed=4)
    assert a.load(5).tobytes() == b.load(5).tobytes()
    assert a.captions[:20] == b.captions[:20] and a.captions[:20] != c.captions[:20]
    assert info_of(a).num_classes == 3 and "circle" in info_of(a).class_names
    with pytest.raises(ZooError, match="unknown dataset 'shapez'; did you mean shapes"):
        open_source(DataConfig(data="builtin:shapez"), 16)


def test_stream_resumes_and_shards():
    full = list(zip(range(25), StreamSampler(10, seed=1)))
    later = list(zip(range(12), StreamSampler(10, seed=1, start=13)))
    assert [x for _, x in full[13:25]] == [x for _, x in later]
    r0 = [x for _, x in zip(range(5), StreamSampler(10, 1, 0, rank=0, world=2))]
    r1 = [x for _, x in zip(range(5), StreamSampler(10, 1, 0, rank=1, world=2))]
    assert [x for _, x in full[:10]] == [v for pair in zip(r0, r1) for v in pair]
    assert sorted(i for _, (i, _) in full[:10]) == list(range(10))  # each epoch is a permutation
