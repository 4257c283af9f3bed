"""The CUB-200-2011 reader on a tiny fake tree, reached through ``--data cub:DIR``."""

from __future__ import annotations

import pytest
from PIL import Image
from zoo_stackgan.cub import crop_box

from zoo_core.data import DataConfig, ImageDataset, info_of, open_source
from zoo_core.errors import ZooError

CLASSES = ["001.Black_footed_Albatross", "002.Laysan_Albatross", "003.Sooty_Albatross"]


def make_cub(root, text_beside: bool = False):
    """3 classes x 2 images of 40x30 px; image 1 of each class is train; 10 captions each."""
    cub = root / "CUB_200_2011"
    text = (root if text_beside else cub) / "text_c10"
    ids, split, boxes = [], [], []
    k = 0
    for c, cls in enumerate(CLASSES):
        (cub / "images" / cls).mkdir(parents=True)
        (text / cls).mkdir(parents=True)
        for j in range(2):
            k += 1
            name = f"{cls.split('.')[1]}_{j:04d}"
            Image.new("RGB", (40, 30), (40 * c, 100, 200)).save(cub / "images" / cls / f"{name}.jpg")
            (text / cls / f"{name}.txt").write_text("".join(f"bird {k} caption {i}\n" for i in range(10)))
            ids.append(f"{k} {cls}/{name}.jpg")
            split.append(f"{k} {1 - j}")
            boxes.append(f"{k} 10.0 5.0 8.0 12.0")
    (cub / "images.txt").write_text("\n".join(ids) + "\n")
    (cub / "train_test_split.txt").write_text("\n".join(split) + "\n")
    (cub / "bounding_boxes.txt").write_text("\n".join(boxes) + "\n")
    return cub


def test_train_split_labels_captions_and_bbox_crops(tmp_path):
    cub = make_cub(tmp_path)
    source = open_source(DataConfig(data=f"cub:{cub}"), res=16)
    assert len(source) == 3 and source.class_names == CLASSES and source.labels == [0, 1, 2]
    assert source.captions[1] == [f"bird 3 caption {i}" for i in range(10)]
    # box (10, 5, 8, 12): centre (14, 11), side 1.5 * 12 = 18 -> (5, 2, 23, 20)
    assert source.load(0).size == (18, 18)
    info = info_of(source)
    assert info.has_captions and info.num_classes == 3
    item = ImageDataset(source, 16, 3, DataConfig())[(0, 5)]
    assert item["image"].shape == (3, 16, 16) and item["caption"].startswith("bird 1 caption")


def test_test_split_no_bbox_classes_file_and_text_beside(tmp_path):
    cub = make_cub(tmp_path, text_beside=True)
    source = open_source(DataConfig(data=f"cub:{cub}?split=test&bbox=0"), res=16)
    assert len(source) == 3 and source.load(0).size == (40, 30)
    assert source.captions[0][0] == "bird 2 caption 0"
    (tmp_path / "testclasses.txt").write_text(f"{CLASSES[2]}\n{CLASSES[0]}\n")
    chosen = open_source(DataConfig(data=f"cub:{cub}?split=all&classes={tmp_path / 'testclasses.txt'}"), res=16)
    assert len(chosen) == 4 and chosen.class_names == [CLASSES[0], CLASSES[2]] and chosen.labels == [0, 0, 1, 1]


def test_crop_box_is_clipped_at_the_edges():
    assert crop_box((40, 30), (0.0, 0.0, 10.0, 20.0)) == (0, 0, 20, 25)
    assert crop_box((40, 30), (30.0, 20.0, 10.0, 10.0)) == (28, 18, 40, 30)  # centre (35, 25), half side int(7.5) = 7


@pytest.mark.parametrize("data, message", [
    ("cub:{root}?split=val", "split= must be"),
    ("cub:{root}?bbox=maybe", "bbox= expects"),
    ("cub:{root}?colour=1", "unknown option"),
    ("cub:{root}/nowhere", "no images/ folder"),
    ("builtin:cub", "needs its folder"),
])
def test_bad_cub_options_are_clear_errors(tmp_path, data, message):
    cub = make_cub(tmp_path)
    with pytest.raises(ZooError, match=message):
        open_source(DataConfig(data=data.format(root=cub)), res=16)


def test_missing_captions_say_where_they_were_looked_for(tmp_path):
    cub = make_cub(tmp_path)
    import shutil

    shutil.rmtree(cub / "text_c10")
    with pytest.raises(ZooError, match="text_c10"):
        open_source(DataConfig(data=f"cub:{cub}"), res=16)
