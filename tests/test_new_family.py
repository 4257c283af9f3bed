"""Issue 16: a new family (tests/vae_zoo.py, a small VAE) needs only its own code and a registration."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from vae_zoo import SPEC

import zoo_core
from zoo_core.cli import main
from zoo_core.gan.latent import truncated_noise
from zoo_core.plugins import registry


@pytest.fixture
def vae():
    reg = registry()
    reg.add(SPEC)
    yield SPEC
    reg.remove("model", "vae")


def test_vae_trains_saves_and_samples_through_public_api_and_cli(vae, image_dir, tmp_path, capsys):
    run = zoo_core.train("vae", data=str(image_dir), out=str(tmp_path / "run"), steps=4, device="cpu",
                         progress=False, sample_n=4, beta=0.5)
    logs = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if '"event"' not in line]
    assert [r["step"] for r in logs] == [1, 2, 3, 4] and {"recon", "kl"} <= set(logs[0])
    assert zoo_core.load_run_config(run)["config"] == {"res": 8, "in_channels": 3, "z_dim": 4, "beta": 0.5}

    model = zoo_core.from_pretrained(run, device="cpu")
    a = model.generate(5, seed=3, temperature=0.5)
    assert torch.allclose(a, model.generate(5, seed=3, temperature=0.5, batch_size=2), atol=1e-6)  # any batch size
    z = truncated_noise((5, 4), None, torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.allclose(a, model.decode(z * 0.5), atol=1e-6)  # the latent sampler's Gaussian, scaled

    main(["sample", str(run), "--n", "2", "--seed", "3", "-o", "temperature=0.5", "--out", str(tmp_path / "s"),
          "--device", "cpu"])
    png = np.asarray(Image.open(tmp_path / "s" / "00000.png")).astype(int)
    expected = a[0].clamp(-1, 1).add(1).mul(127.5).round().permute(1, 2, 0).numpy()
    assert np.abs(png - expected).max() <= 1  # the family's own option reaches generate from the CLI

    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["sample", str(run), "-o", "temprature=1", "--out", str(tmp_path / "t.png"), "--device", "cpu"])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and "\n" not in err
    assert "vae does not take -o temprature (it takes: truncation, temperature)" in err
