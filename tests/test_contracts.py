"""The written contracts match the code: model config fields, sample options, documented names."""

from __future__ import annotations

import doctest
import importlib
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import tomllib
import torch

from zoo_core.errors import ZooError
from zoo_core.generation import model_options
from zoo_core.protocols import ModelConfig, check_model_config

DOCS = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


class Strict:
    zoo_name = "strict"

    def generate(self, n, *, seed=None, steps=None, stage: int = 2, guidance: float = 1.0):
        return torch.zeros(n)


class Open(Strict):
    def generate(self, n, *, seed=None, **kwargs):
        return torch.zeros(n)


def test_sample_options_are_checked_against_generate():
    assert model_options(Strict(), ["stage=1", "guidance=2.5"]) == {"stage": 1, "guidance": 2.5}
    with pytest.raises(ZooError, match=r"^strict does not take -o eta \(it takes: stage, guidance\)$"):
        model_options(Strict(), ["eta=0"])
    with pytest.raises(ZooError, match="use zoo sample's own --seed flag"):
        model_options(Strict(), ["seed=3"])
    with pytest.raises(ZooError, match="-o expects KEY=VALUE"):
        model_options(Strict(), ["stage"])
    assert model_options(Open(), ["anything=yes"]) == {"anything": True}  # the model checks **kwargs itself


def test_model_configs_need_res_and_in_channels():
    @dataclass
    class NoChannels:
        res: int = 8

    with pytest.raises(ZooError, match="^toy's config NoChannels lacks integer field.s. in_channels"):
        check_model_config(NoChannels(), "toy")
    from toy_zoo import ToyConfig

    check_model_config(ToyConfig(), "toy")
    assert isinstance(ToyConfig(), ModelConfig)


def test_engine_refuses_a_config_without_the_required_fields(toy_spec, image_dir, tmp_path, monkeypatch):
    from zoo_core import training

    eng = training.engine("toy", data=str(image_dir), device="cpu", progress=False)
    monkeypatch.delattr(type(eng.model_cfg), "in_channels", raising=False)
    eng.model_cfg.__dict__.pop("in_channels")
    with pytest.raises(ZooError, match="lacks integer field.s. in_channels"):
        eng.setup(out=tmp_path / "r")


def test_stackgan_trainer_only_overrides_the_matching_aware_parts():
    pytest.importorskip("zoo_stackgan")
    from zoo_stackgan.trainer import StackGANTrainer

    from zoo_core.gan.trainer import GANTrainer

    assert issubclass(StackGANTrainer, GANTrainer)
    own = set(vars(StackGANTrainer))
    assert not own & {"d_step", "g_step", "prob", "make_optimizer", "_prob"}


def test_every_name_docs_plugins_md_cites_imports():
    text = DOCS.read_text()
    names = set(re.findall(r"`(zoo_core(?:\.\w+)+)`", text))
    assert len(names) >= 10
    for dotted in sorted(names):
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for attr in parts[cut:]:
                obj = getattr(obj, attr)  # AttributeError: the docs name something that is not there
            break
        else:
            pytest.fail(f"docs/plugins.md cites {dotted}, which does not import")


def test_docs_plugins_md_names_every_hook_and_no_other():
    from zoo_core.plugins import HOOKS

    cited = set(re.findall(r"`(register_\w+)", DOCS.read_text()))
    assert set(HOOKS) == cited and len(HOOKS) >= 8


def _write_walkthrough(root):
    """The plugin docs/plugins.md builds: its files (python blocks opening with ``# zoo_x/file.py``) written
    under ``root``, and the entry point its pyproject block declares."""
    from importlib.metadata import EntryPoint

    blocks = re.findall(r"^```(\w*)\n(.*?)^```$", DOCS.read_text(), re.M | re.S)
    files = {m.group(1): body for lang, body in blocks if lang == "python" and (m := re.match(r"# (zoo_\w+/\w+\.py)\n", body))}
    assert {"hooks.py", "config.py", "model.py", "trainer.py"} <= {f.split("/")[1] for f in files}
    for rel, body in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(body)
        (root / rel).with_name("__init__.py").touch()
    entry_points = tomllib.loads(next(body for lang, body in blocks if lang == "toml"))["project"]["entry-points"]
    ((name, value),) = entry_points["zoo"].items()
    return EntryPoint(name, value, "zoo")


def test_docs_plugins_md_walkthrough_is_a_working_plugin(tmp_path, monkeypatch, capsys):
    from zoo_core.cli import main
    from zoo_core.plugins import load, registry

    torch.set_num_threads(1)
    entry_point = _write_walkthrough(tmp_path / "src")
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    light = f"import sys, {entry_point.value}; assert 'torch' not in sys.modules"  # the hook module stays light
    subprocess.run([sys.executable, "-c", light], check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    state = load([entry_point])
    assert [p.error for p in state.plugins] == [None, None]  # the core and the new plugin
    reg = registry()
    reg.add(state.registry.model("myvae"))
    monkeypatch.chdir(tmp_path)
    try:
        result = doctest.testfile(str(DOCS), module_relative=False, optionflags=doctest.ELLIPSIS)
        assert result.attempted >= 6 and result.failed == 0
        main(["sample", "runs/vae", "-o", "temperature=0.5", "--n", "2", "--out", "s.png", "--device", "cpu"])
        assert (tmp_path / "s.png").is_file()  # the family's own option, from the CLI
    finally:
        reg.remove("model", "myvae")
        for name in [m for m in sys.modules if m.split(".")[0] == entry_point.value.split(".")[0]]:
            del sys.modules[name]
