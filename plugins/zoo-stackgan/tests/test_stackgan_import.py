"""StackGAN-Pytorch generators convert exactly, checked against a golden file made by the original code.

tests/data/README.md says how it was made; ``fill`` (``zoo_core.importing.seeded_state_dict``) regenerates its weights from the recorded shapes.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from zoo_core import from_pretrained
from zoo_core.convert import convert
from zoo_core.errors import ZooError
from zoo_core.importing import seeded_state_dict

DATA = Path(__file__).parent / "data"
SHAPES = json.loads((DATA / "stackgan_tiny.json").read_text())["shapes"]
GOLDEN = load_file(DATA / "stackgan_tiny.safetensors")


fill = partial(seeded_state_dict, std=0.2)  # make_golden.py's weights, regenerated: floats N(0, 0.2^2)


@pytest.fixture
def embeddings(tmp_path) -> Path:
    path = tmp_path / "emb.npz"
    np.savez(path, embeddings=GOLDEN["phi"].numpy(), captions=np.array(["a red bird", "a small blue bird"]))
    return path


def test_stage2_generator_equals_the_original(tmp_path, embeddings):
    torch.save(fill(SHAPES), tmp_path / "netG_epoch_600.pth")
    folder = convert(tmp_path / "netG_epoch_600.pth", tmp_path / "zoo", format="stackgan-pytorch",
                     embeddings=str(embeddings))
    model = from_pretrained(folder, device="cpu")
    assert (model.config.stage, model.config.res, model.config.res_blocks) == ("both", 256, 1)
    torch.manual_seed(7)  # their CA draws torch.FloatTensor(...).normal_() from the global RNG: Stage I, then II
    eps1, eps2 = torch.FloatTensor(2, 8).normal_(), torch.FloatTensor(2, 8).normal_()
    with torch.no_grad():
        out = model(GOLDEN["z"], GOLDEN["phi"], eps1, eps2)
    torch.testing.assert_close(out["image1"], GOLDEN["image1"], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out["image2"][:, :, ::4, ::4], GOLDEN["image2_every4"], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out["mu2"], GOLDEN["mu2"], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out["logvar2"], GOLDEN["logvar2"], atol=1e-5, rtol=1e-5)
    images = model.generate(2, seed=0, prompt=["a red bird", "a red bird"])  # captions of the embeddings file
    assert images.shape == (2, 3, 256, 256)


def test_stage1_alone_and_errors(tmp_path, embeddings):
    stage1 = {k[len("STAGE1_G."):]: v for k, v in fill(SHAPES).items() if k.startswith("STAGE1_G.")}
    torch.save(stage1, tmp_path / "netG_epoch_120.pth")
    with pytest.raises(ZooError, match="--option embeddings=FILE"):
        convert(tmp_path / "netG_epoch_120.pth", tmp_path / "a", format="stackgan-pytorch")
    model = from_pretrained(convert(tmp_path / "netG_epoch_120.pth", tmp_path / "zoo", format="stackgan-pytorch",
                                    embeddings=str(embeddings)), device="cpu")
    assert (model.config.stage, model.config.res) == ("1", 64)
    torch.manual_seed(7)
    eps1 = torch.FloatTensor(2, 8).normal_()
    with torch.no_grad():
        torch.testing.assert_close(model(GOLDEN["z"], GOLDEN["phi"], eps1)["image1"], GOLDEN["image1"],
                                   atol=1e-5, rtol=1e-5)
    np.savez(tmp_path / "wide.npz", embeddings=np.zeros((1, 32), np.float32), captions=np.array(["x"]))
    with pytest.raises(ZooError, match="takes 16-d text embeddings"):
        convert(tmp_path / "netG_epoch_120.pth", tmp_path / "b", format="stackgan-pytorch",
                embeddings=str(tmp_path / "wide.npz"))


def test_converted_stage1_fine_tunes_with_init(tmp_path, embeddings):
    """``zoo train stackgan --init`` starts from the converted weights: one step moves them only a little."""
    from PIL import Image

    from zoo_core.cli import main

    stage1 = {k[len("STAGE1_G."):]: v for k, v in fill(SHAPES).items() if k.startswith("STAGE1_G.")}
    torch.save(stage1, tmp_path / "netG_epoch_120.pth")
    folder = convert(tmp_path / "netG_epoch_120.pth", tmp_path / "zoo", format="stackgan-pytorch",
                     embeddings=str(embeddings))
    data = tmp_path / "birds"
    data.mkdir()
    rows = []
    for i in range(4):  # captions the embeddings file knows
        pixels = (np.random.default_rng(i).random((64, 64, 3)) * 255).astype("uint8")
        Image.fromarray(pixels).save(data / f"{i}.png")
        rows.append({"file_name": f"{i}.png", "text": ["a red bird", "a small blue bird"][i % 2]})
    (data / "metadata.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    run = tmp_path / "run"
    main(["train", "stackgan", "--init", str(folder), "--data", str(data), "--steps", "1", "--batch-size", "2",
          "--out", str(run), "--no-progress", "--device", "cpu", "--sample-every", "100"])
    tuned, source = load_file(run / "final" / "model.safetensors"), load_file(folder / "model.safetensors")
    assert tuned.keys() == source.keys()
    weights = [k for k in source if k.endswith(".weight") and source[k].dim() == 4]  # conv kernels
    moved = max((tuned[k] - source[k]).abs().max().item() for k in weights)
    assert 0 < moved < 0.05  # one Adam step from the converted weights, not a fresh initialisation
    tuned_cfg = json.loads((run / "final" / "config.json").read_text())["config"]
    source_cfg = json.loads((folder / "config.json").read_text())["config"]
    assert {k: tuned_cfg[k] for k in ("g_channels", "res", "stage", "text_dim")} == \
        {k: source_cfg[k] for k in ("g_channels", "res", "stage", "text_dim")}
