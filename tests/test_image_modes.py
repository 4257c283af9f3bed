"""Images are read as they are: 16-bit scaled (not clipped to white), alpha on white, palette, CMYK,
EXIF orientation, mixed modes reported once, and huge images decoded once."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

from zoo_core.data import DataConfig, ImageDataset, open_source
from zoo_core.pixels import as_mode


def test_16bit_gray_is_scaled_not_clipped():
    a = np.full((8, 8), 32768, dtype=np.uint16)  # mid-gray in 16 bits
    out = np.asarray(as_mode(Image.fromarray(a), "RGB"))
    assert out.shape == (8, 8, 3)
    assert np.all(np.abs(out.astype(int) - 128) <= 1)  # PIL's convert() gives 255 here


def test_float_image_in_unit_range_is_scaled():
    a = np.full((4, 4), 0.5, dtype=np.float32)
    assert abs(int(np.asarray(as_mode(Image.fromarray(a, mode="F"), "L"))[0, 0]) - 128) <= 1


def test_alpha_composites_on_white_and_palette_and_cmyk():
    rgba = Image.new("RGBA", (4, 4), (0, 0, 0, 0))  # fully transparent black
    assert np.asarray(as_mode(rgba, "RGB")).min() == 255
    la = Image.new("LA", (4, 4), (0, 0))
    assert np.asarray(as_mode(la, "L")).min() == 255
    pal = Image.new("RGB", (4, 4), (200, 10, 30)).convert("P")
    assert tuple(np.asarray(as_mode(pal, "RGB"))[0, 0]) == tuple(np.asarray(pal.convert("RGB"))[0, 0])
    cmyk = Image.new("CMYK", (4, 4), (0, 255, 255, 0))  # pure red in CMYK
    r, g, b = np.asarray(as_mode(cmyk, "RGB"))[0, 0]
    assert r > 200 and g < 50 and b < 50


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (6, 2), (0, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    img.save(tmp_path / "r.jpg", exif=exif.tobytes())
    with Image.open(tmp_path / "r.jpg") as im:
        assert as_mode(im, "RGB").size == (2, 6)


def test_16bit_png_folder_trains_on_mid_gray(tmp_path):
    for i in range(2):
        Image.fromarray(np.full((16, 16), 32768, dtype=np.uint16)).save(tmp_path / f"g{i}.png")
    cfg = DataConfig(data=str(tmp_path))
    ds = ImageDataset(open_source(cfg, 8), res=8, channels=3, cfg=cfg)
    x = ds[(0, 0)]
    x = x["image"] if isinstance(x, dict) else x
    assert x.shape == (3, 8, 8)
    assert float(x.abs().max()) < 0.02  # mid-gray is 0 in [-1, 1]; clipping would give +1


def test_mixed_modes_reported_once(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    Image.new("L", (8, 8)).save(tmp_path / "b.png")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        open_source(DataConfig(data=str(tmp_path)), 8)
    notes = [str(w.message) for w in seen if "modes" in str(w.message)]
    assert len(notes) == 1 and "RGB" in notes[0] and "L" in notes[0]


def test_large_images_are_decoded_once(tmp_path, monkeypatch):
    for i in range(2):
        Image.new("RGB", (256, 256), (10 * i, 0, 0)).save(tmp_path / f"big{i}.jpg")
    source = open_source(DataConfig(data=str(tmp_path)), 8)
    assert source.shrink == 16
    first = source.load(0)
    assert min(first.size) == 16
    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    again = source.load(0)
    assert not opened and np.array_equal(np.asarray(first), np.asarray(again))


@pytest.mark.parametrize("crop", ["center_crop", "random_crop"])
def test_crops_keep_full_size_images(tmp_path, crop):
    Image.new("RGB", (256, 256)).save(tmp_path / "big.png")
    assert open_source(DataConfig(data=str(tmp_path), **{crop: 64}), 8).shrink is None
