"""The hub test kit: a tiny registered generator, a saved copy of it, and the local Hub server.

Shared by tests/test_hub.py and tests/test_trust.py (conftest.py makes the fixtures visible); the
real huggingface_hub client talks to tests/hubserver.py over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from hubserver import HubServer
from torch import nn

from zoo_core import plugins
from zoo_core.config import opt
from zoo_core.hub import save_pretrained
from zoo_core.registry import ModelSpec


# ------------------------------------------------------------------ a tiny generator
@dataclasses.dataclass
class TinyConfig:
    res: int = opt(4, "image size", min=2, max=16)
    latent: int = opt(3, "latent size", min=1, max=8)


class TinyGen(nn.Module):
    zoo_name = "hubtiny"

    def __init__(self, config: TinyConfig):
        super().__init__()
        self.config = config
        self.net = nn.Linear(config.latent, 3 * config.res * config.res)

    def generate(self, n, *, seed=None, **kw):
        g = torch.Generator().manual_seed(0 if seed is None else seed)
        z = torch.randn(n, self.config.latent, generator=g)
        with torch.no_grad():
            return torch.tanh(self.net(z)).view(n, 3, self.config.res, self.config.res)


SPEC = ModelSpec(name="hubtiny", summary="a tiny test generator", family="test",
                 config="hub_fixtures:TinyConfig", model="hub_fixtures:TinyGen", trainer="hub_fixtures:TinyGen",
                 distribution="zoo-hubtiny", version="0.0.1")


@pytest.fixture
def tiny():
    table = plugins.registry().tables["model"]
    table["hubtiny"] = SPEC
    yield
    table.pop("hubtiny", None)


@pytest.fixture
def saved(tmp_path, tiny) -> Path:
    torch.manual_seed(1)
    return save_pretrained(TinyGen(TinyConfig(res=4, latent=3)), tmp_path / "saved")


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """The server, with huggingface_hub pointed at it and at a fresh cache, as its own tests do."""
    from huggingface_hub import constants

    server = HubServer().start()
    home = tmp_path / "hf-home"
    for name, value in {
        "ENDPOINT": server.url,
        "HUGGINGFACE_CO_URL_TEMPLATE": server.url + "/{repo_id}/resolve/{revision}/{filename}",
        "HF_HOME": str(home), "HF_HUB_CACHE": str(home / "hub"), "HUGGINGFACE_HUB_CACHE": str(home / "hub"),
        "HF_TOKEN_PATH": str(home / "token"), "HF_STORED_TOKENS_PATH": str(home / "stored_tokens"),
        "HF_XET_CACHE": str(home / "xet"), "AGENT_HARNESSES_PATH": str(home / "agents.json"),
        "HF_HUB_DISABLE_XET": True, "HF_HUB_OFFLINE": False,
    }.items():
        if hasattr(constants, name):
            monkeypatch.setattr(constants, name, value)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    yield server
    server.stop()


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def cli(argv, capsys) -> tuple[int, str, str]:
    from zoo_core.cli import main

    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def push_record(hub, repo_id: str, saved: Path, **changes) -> None:
    """Put ``saved`` on the server with config.json edited: a model no well-behaved zoo would write."""
    record = json.loads((saved / "config.json").read_text())
    record.update(changes)
    files = files_of(saved)
    files["config.json"] = json.dumps(record).encode()
    hub.put(repo_id, files)
