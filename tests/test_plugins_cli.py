"""Plugin discovery through real entry points, broken plugins, and the list/info/plugins commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

GOOD = '''
from zoo_core.hookspecs import hookimpl
from zoo_core.registry import ModelSpec

@hookimpl
def register_models(register):
    register(ModelSpec("testnet", "a model from a test plugin", "test", "toy_zoo:ToyConfig",
                       "toy_zoo:ToyModel", "toy_zoo:ToyTrainer", paper="Nobody, 2026"))
'''
BROKEN_IMPORT = "raise ImportError('boom: a dependency is missing')\n"
BROKEN_HOOK = '''
from zoo_core.hookspecs import hookimpl

@hookimpl
def register_models(register):
    raise RuntimeError("registration exploded")
'''


def _dist(site: Path, dist: str, module: str, source: str) -> None:
    (site / module).mkdir(parents=True)
    (site / module / "__init__.py").write_text(source)
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    info.joinpath("METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    info.joinpath("entry_points.txt").write_text(f"[zoo]\n{module} = {module}\n")


@pytest.fixture
def site(tmp_path):
    site = tmp_path / "site"
    _dist(site, "zoo-testplugin", "zoo_testplugin", GOOD)
    _dist(site, "zoo-brokenimport", "zoo_brokenimport", BROKEN_IMPORT)
    _dist(site, "zoo-brokenhook", "zoo_brokenhook", BROKEN_HOOK)
    return site


def zoo(args, site=None, check=True):
    env = dict(os.environ)
    paths = [str(Path(__file__).parent)] + ([str(site)] if site else [])
    env["PYTHONPATH"] = os.pathsep.join(paths + [env.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, "-m", "zoo_core", *args], capture_output=True, text=True, env=env,
                          timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_entry_point_plugin_is_listed_and_broken_ones_do_not_break_list(site):
    proc = zoo(["list", "--json"], site)
    rows = {r["name"]: r for r in json.loads(proc.stdout)}
    assert rows["testnet"]["distribution"] == "zoo-testplugin"
    assert rows["testnet"]["version"] == "0.1"
    assert "boom" not in proc.stdout


def test_plugins_command_shows_errors(site):
    out = zoo(["plugins"], site).stdout
    assert "zoo-testplugin" in out
    assert "boom: a dependency is missing" in out
    assert "registration exploded" in out


def test_load_records_errors_in_process(site, monkeypatch):
    monkeypatch.syspath_prepend(str(site))
    from importlib import metadata

    from zoo_core import plugins

    eps = [ep for ep in metadata.entry_points(group="zoo") if ep.name.startswith("zoo_")]
    st = plugins.load(eps)
    errors = {p.distribution: p.error for p in st.plugins}
    assert errors["zoo-testplugin"] is None
    assert "boom" in errors["zoo-brokenimport"]
    assert "exploded" in errors["zoo-brokenhook"]
    assert "testnet" in st.registry.names("model")


def test_info_shows_options_presets_and_paper(site):
    out = zoo(["info", "testnet"], site).stdout
    for needle in ("--width", "hidden width", "--steps", "--data", "wide", "Nobody, 2026"):
        assert needle in out


def test_unknown_model_is_one_line_exit_2_with_suggestion(site):
    proc = zoo(["train", "testnt"], site, check=False)
    assert proc.returncode == 2
    assert "did you mean testnet" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = zoo(["info", "tesnet"], site, check=False)
    assert proc.returncode == 2 and "testnet" in proc.stderr


def test_train_help_lists_config_fields(site):
    out = zoo(["train", "testnet", "--help"], site).stdout
    assert "--width" in out and "--grad-accum" in out and "--preset" in out


def test_cli_start_does_not_import_torch(site):
    code = textwrap.dedent("""
        import sys
        from zoo_core.cli import main
        try:
            main(["list"])
        except SystemExit:
            pass
        print("TORCH" if "torch" in sys.modules else "NO-TORCH")
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(Path(__file__).parent)]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60).stdout
    assert out.strip().endswith("NO-TORCH")
