"""The one way in for published checkpoints: ``zoo convert``, on-the-fly conversion in ``from_pretrained`` /
``zoo sample`` (folders and Hub repo ids, cached), ``zoo train NAME --init``, the catalogue, and refusing
pickles that need more than tensors. A small diffusers DDPM (zoo-ddpm's importer) is the sample format.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

diffusers = pytest.importorskip("diffusers")
pytest.importorskip("zoo_ddpm")

from hub_fixtures import cli, files_of  # noqa: E402 - conftest puts tests/ on sys.path; hub is a conftest fixture
from safetensors.torch import load_file  # noqa: E402

from zoo_core import from_pretrained  # noqa: E402
from zoo_core.convert import convert  # noqa: E402
from zoo_core.errors import ZooError  # noqa: E402
from zoo_core.importing import seeded_state_dict  # noqa: E402

UNET = {"block_out_channels": [16, 32], "down_block_types": ["AttnDownBlock2D", "DownBlock2D"],
        "up_block_types": ["UpBlock2D", "AttnUpBlock2D"], "sample_size": 16, "norm_num_groups": 8,
        "layers_per_block": 1, "downsample_padding": 0, "attention_head_dim": None, "flip_sin_to_cos": False, "freq_shift": 1, "norm_eps": 1e-6}
SCHEDULER = {"_class_name": "DDPMScheduler", "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear",
             "num_train_timesteps": 1000, "variance_type": "fixed_large", "clip_sample": True}


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A fresh Hub cache, where on-the-fly conversions of local folders go."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    return tmp_path / "hub-cache"


@pytest.fixture
def diffusers_folder(tmp_path):
    unet = diffusers.UNet2DModel(**UNET)
    unet.load_state_dict(seeded_state_dict({k: v.shape for k, v in unet.state_dict().items()}, std=0.2))
    folder = tmp_path / "ddpm-diffusers"
    unet.save_pretrained(folder)
    (folder / "scheduler_config.json").write_text(json.dumps(SCHEDULER))
    return folder


def test_cli_convert_then_sample_the_folder_directly(diffusers_folder, cache, tmp_path, capsys):
    code, out, err = cli(["convert", str(diffusers_folder), "--out", str(tmp_path / "zoo")], capsys)
    assert code == 0, err
    record = json.loads((tmp_path / "zoo" / "config.json").read_text())
    assert record["zoo_model"] == "ddpm" and record["config"]["down_pad"] == "tf"
    grid = tmp_path / "grid.png"
    code, out, err = cli(["sample", str(diffusers_folder), "--n", "2", "--sampler", "ddim", "--steps", "3",
                          "--out", str(grid), "--device", "cpu"], capsys)
    assert code == 0, err
    assert grid.is_file()
    cached = [p.parent for p in cache.glob("zoo-converted/*/model.safetensors")]
    assert len(cached) == 1  # converted once, into the Hub cache
    stamp = (cached[0] / "model.safetensors").stat().st_mtime_ns
    from_pretrained(diffusers_folder, device="cpu")
    assert (cached[0] / "model.safetensors").stat().st_mtime_ns == stamp  # the second load reads the cache
    a, b = load_file(tmp_path / "zoo" / "model.safetensors"), load_file(cached[0] / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_cli_convert_errors_are_one_line(diffusers_folder, cache, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    for argv, needle in (
        (["convert", str(empty), "--out", str(tmp_path / "o")], "cannot tell the format"),
        (["convert", str(diffusers_folder), "--out", str(tmp_path / "o"), "--format", "difusers-ddpm"],
         "did you mean diffusers-ddpm"),
        (["convert", str(tmp_path / "missing"), "--out", str(tmp_path / "o")], "does not exist"),
        (["convert", str(diffusers_folder), "--out", str(tmp_path / "o"), "--option", "x"], "KEY=VALUE"),
    ):
        code, out, err = cli(argv, capsys)
        assert code == 2 and err.count("\n") == 1 and needle in err, (argv, err)


@pytest.mark.parametrize("key,value,needle", [("layers_per_block", "x", "ValueError: invalid literal for int()"),
                                               ("attention_head_dim", "x", "TypeError: unsupported operand")])
def test_a_value_the_importer_cannot_use_is_one_line(diffusers_folder, cache, tmp_path, capsys, key, value, needle):
    """A stranger's config.json with a string where a number belongs: convert and sample say so in one line."""
    config = json.loads((diffusers_folder / "config.json").read_text())
    (diffusers_folder / "config.json").write_text(json.dumps({**config, key: value}))
    for argv in (["convert", str(diffusers_folder), "--out", str(tmp_path / "o")],
                 ["sample", str(diffusers_folder), "--n", "1", "--out", str(tmp_path / "s.png")]):
        code, _, err = cli(argv, capsys)
        assert code == 2 and err.count("\n") == 1 and "could not be converted as diffusers-ddpm" in err, err
        assert needle in err and "Traceback" not in err


def test_diffusers_repo_on_the_hub_loads_by_repo_id(hub, diffusers_folder, tmp_path, capsys):
    hub.put("google/ddpm-tiny", files_of(diffusers_folder) | {"README.md": b"# tiny\n"})
    model = from_pretrained("google/ddpm-tiny", device="cpu")
    x, t = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(0)), torch.tensor([10])
    want = diffusers.UNet2DModel.from_pretrained(diffusers_folder).eval()(x, t).sample
    with torch.no_grad():
        torch.testing.assert_close(model.denoise(x, t), want, atol=1e-5, rtol=1e-5)
    from huggingface_hub import constants

    converted = list(Path(constants.HF_HUB_CACHE).glob("models--google--ddpm-tiny/zoo/*/model.safetensors"))
    assert len(converted) == 1  # cached beside the snapshot, keyed by its commit
    code, out, err = cli(["convert", "google/ddpm-tiny", "--out", str(tmp_path / "c"), "--push", "me/ddpm-tiny"],
                         capsys)
    assert code == 0, err
    pushed = hub.repos["me/ddpm-tiny"].commits[hub.repos["me/ddpm-tiny"].branches["main"]]
    assert {"config.json", "model.safetensors", "README.md"} <= set(pushed)


def test_train_init_fine_tunes_from_a_diffusers_folder(diffusers_folder, cache, tmp_path, capsys):
    run = tmp_path / "run"
    code, out, err = cli(["train", "ddpm", "--init", str(diffusers_folder), "--data", "builtin:shapes", "--res", "16",
                          "--steps", "2", "--batch-size", "2", "--lr", "1e-9", "--warmup", "0", "--out", str(run),
                          "--no-progress", "--device", "cpu", "--sample-every", "100", "--checkpoint-every", "100"],
                         capsys)
    assert code == 0, err
    record = json.loads((run / "final" / "config.json").read_text())
    assert record["config"]["norm_eps"] == 1e-6 and record["config"]["channels"] == 16  # the source's layout
    source = load_file(next(cache.glob("zoo-converted/*/model.safetensors")))
    tuned = load_file(run / "final" / "model.safetensors")
    assert source.keys() == tuned.keys()
    assert max((source[k] - tuned[k]).abs().max().item() for k in source) < 1e-4  # lr 1e-9: still the source


def test_init_with_another_architecture_names_the_mismatch(diffusers_folder, cache, tmp_path, capsys):
    code, out, err = cli(["train", "ddpm", "--init", str(diffusers_folder), "--data", "builtin:shapes", "--res", "16",
                          "--channels", "32", "--steps", "1", "--out", str(tmp_path / "r"), "--device", "cpu"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "do not fit" in err and "shape" in err


class Evil:
    """Unpickling this would create a file: a stand-in for any code a malicious checkpoint runs."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("zipped", [True, False], ids=["torch.save", "plain-pickle"])
def test_malicious_pickle_is_refused_and_never_runs(diffusers_folder, cache, tmp_path, zipped):
    marker = tmp_path / "pwned"
    weights = diffusers_folder / "diffusion_pytorch_model.bin"
    (diffusers_folder / "diffusion_pytorch_model.safetensors").unlink()
    payload = {"conv_in.weight": Evil(marker)}
    if zipped:
        torch.save(payload, weights)
    else:
        weights.write_bytes(pickle.dumps(payload))
    with pytest.raises(ZooError, match=r"needs more than tensors to load \((it pickles the Python object .getattr.|a pickle instruction tensors never need: Unsupported operand \d+)\); ") as info:
        convert(diffusers_folder, tmp_path / "out")
    assert "\n" not in str(info.value)
    assert not marker.exists() and not (tmp_path / "out").exists()
    with pytest.raises(ZooError, match="needs more than tensors"):
        from_pretrained(diffusers_folder, device="cpu")
    assert not marker.exists()


def test_list_pretrained_json(capsys):
    code, out, err = cli(["list", "--pretrained", "--json"], capsys)
    assert code == 0, err
    rows = {r["name"]: r for r in json.loads(out)}
    cifar = rows["google/ddpm-cifar10-32"]
    assert (cifar["model"], cifar["format"], cifar["res"], cifar["dataset"], cifar["score"], cifar["license"]) == (
        "ddpm", "diffusers-ddpm", 32, "CIFAR-10", "FID 3.17", "apache-2.0")
    assert "google/ddpm-ema-church-256" in rows and "google/ddpm-ema-cifar10-32" not in rows
    code, out, err = cli(["list", "--pretrained"], capsys)
    assert code == 0 and "google/ddpm-cat-256" in out
