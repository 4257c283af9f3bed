"""improved-diffusion checkpoints convert exactly, checked against golden files made by the original code.

tests/data/README.md says how the golden files were made. The tiny networks' weights are not stored:
``fill`` (``zoo_core.importing.seeded_state_dict``, as the generator used) regenerates them from the recorded
key shapes.
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
from zoo_core.importing import check_state, seeded_state_dict

DATA = Path(__file__).parent / "data"
TINY = json.loads((DATA / "improved_diffusion_tiny.json").read_text())
GOLDEN = load_file(DATA / "improved_diffusion_tiny.safetensors")


fill = partial(seeded_state_dict, std=0.1)  # make_golden.py's weights, regenerated: N(0, 0.1^2)


@pytest.mark.parametrize("name", sorted(TINY))
def test_output_and_reverse_step_equal_the_original_code(name, tmp_path):
    record = TINY[name]
    pt = tmp_path / f"{name}.pt"
    torch.save(fill(record["shapes"]), pt)  # the release format: a bare state dict
    options = {k: str(v) for k, v in record["flags"].items()}
    model = from_pretrained(convert(pt, tmp_path / "zoo", format="improved-diffusion", **options), device="cpu")
    x, t = GOLDEN[f"{name}.x"], torch.tensor(record["t"])
    cond = {"label": torch.tensor(record["y"])} if record["y"] else {}
    with torch.no_grad():
        out = model.denoise(x, t, **cond)
    torch.testing.assert_close(out, GOLDEN[f"{name}.out"], atol=1e-5, rtol=1e-5)
    p = model.diffusion.p_mean_variance(out, x, t, clip=True)
    torch.testing.assert_close(p["mean"], GOLDEN[f"{name}.mean"], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(p["log_variance"], GOLDEN[f"{name}.log_variance"], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("release", sorted(json.loads((DATA / "improved_diffusion_release_keys.json").read_text())))
def test_every_key_of_the_released_networks_maps(release):
    """The README's flags for each release build a zoo network whose every tensor one release tensor fills."""
    from zoo_iddpm.config import IDDPMConfig
    from zoo_iddpm.importers import convert_state, flags_for, zoo_config
    from zoo_iddpm.model import IDDPM

    from zoo_core.config import build

    shapes = json.loads((DATA / "improved_diffusion_release_keys.json").read_text())[release]
    cfg = build(IDDPMConfig, zoo_config(flags_for(Path(release + ".pt"), {})))
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in IDDPM(cfg).state_dict().items()}
        state = convert_state({k: torch.empty(s) for k, s in shapes.items()}, cfg.num_heads)
    check_state(expected, {k: tuple(v.shape) for k, v in state.items()}, release)
    assert len(state) == len(shapes)


def test_release_files_are_recognised_by_name_and_others_need_flags(tmp_path):
    record = TINY["tiny_uncond_cosine"]
    named = tmp_path / "cifar10_uncond_50M_500K.pt"
    torch.save(fill(record["shapes"]), named)
    assert detect(named).name == "improved-diffusion"
    with pytest.raises(ZooError, match="do not fit"):  # tiny weights under the release's flags: refused, named
        convert(named, tmp_path / "a")
    other = tmp_path / "model.pt"
    torch.save(fill(record["shapes"]), other)
    assert detect(other) is None
    with pytest.raises(ZooError, match="pass its MODEL_FLAGS"):
        convert(other, tmp_path / "b", format="improved-diffusion")
    with pytest.raises(ZooError, match="unknown improved-diffusion flag"):
        convert(other, tmp_path / "c", format="improved-diffusion", num_chanels="32")
    with pytest.raises(ZooError, match="expects True or False"):
        convert(other, tmp_path / "d", format="improved-diffusion", learn_sigma="maybe")


def test_release_file_loads_directly_and_a_conversion_fine_tunes(tmp_path, monkeypatch):
    """from_pretrained takes a release file by path (converted once into the Hub cache); --init fine-tunes."""
    from huggingface_hub import constants

    from zoo_core.cli import main

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
    record = TINY["tiny_lsun_linear"]
    pt = tmp_path / "weights.pt"
    torch.save(fill(record["shapes"]), pt)
    folder = convert(pt, tmp_path / "zoo", format="improved-diffusion", **{k: str(v) for k, v in record["flags"].items()})
    with pytest.raises(ZooError, match="zoo convert"):  # an unknown file: its flags are needed
        from_pretrained(pt)
    named = tmp_path / "cifar10_uncond_50M_500K.pt"
    torch.save(fill(record["shapes"]), named)
    with pytest.raises(ZooError, match="do not fit"):  # a release name: converted on the fly, shapes checked first
        from_pretrained(named)
    run = tmp_path / "run"
    main(["train", "iddpm", "--init", str(folder), "--data", "builtin:shapes", "--steps", "1", "--batch-size", "2",
          "--out", str(run), "--no-progress", "--device", "cpu", "--sample-every", "100"])
    tuned = load_file(run / "final" / "model.safetensors")
    source = load_file(folder / "model.safetensors")
    assert json.loads((run / "final" / "config.json").read_text())["config"]["channels"] == 32
    assert source.keys() == tuned.keys()
    assert max((source[k] - tuned[k]).abs().max().item() for k in source) < 1e-3  # one small step from the source
