"""docs/hub.md's Python example runs, as written, against the local Hub server (issue 22, "Done when")."""

from __future__ import annotations

import re
from pathlib import Path

import torch

from zoo_core import create_model, from_pretrained, train

DOC = Path(__file__).resolve().parents[1] / "docs" / "hub.md"
FAST = {"steps": 2, "progress": False, "device": "cpu", "sample_n": 4, "batch_size": 4}


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, re.M | re.S)


def test_docs_hub_md_python_example_runs(hub, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_TOKEN", "hf_writer")  # a logged-in user: the example's repo is private
    train("dcgan", data="builtin:shapes", out="runs/dcgan-shapes", res=16, channels=4, **FAST)
    (block,) = python_blocks(DOC.read_text())
    model = create_model("dcgan", res=16, channels=4)
    env = {"model": model, "disc": torch.nn.Linear(2, 2)}
    exec(compile(block, str(DOC), "exec"), env)  # noqa: S102 - our own documentation, run as a user would
    assert env["info"].commit_url.startswith(hub.url) and hub.url in capsys.readouterr().out
    repo = hub.repos["me/dcgan-shapes"]
    assert repo.private and set(repo.branches) == {"main", "v1"}
    assert "discriminator.safetensors" in {p.name for p in (tmp_path / "out" / "my-gan-d").iterdir()}
    # the model pushed to v1 was the run's (the example reassigns `model`), and the last line loaded it back
    run_model, v1 = from_pretrained("runs/dcgan-shapes", device="cpu"), env["model"]
    assert torch.equal(v1.generate(2, seed=1), run_model.generate(2, seed=1))
    assert not torch.equal(v1.generate(2, seed=1), model.generate(2, seed=1))  # not the untrained one
    assert env["images"].shape == (16, 3, 16, 16) and env["images"].abs().max() <= 1
