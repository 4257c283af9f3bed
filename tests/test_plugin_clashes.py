"""Issue 18.5: two plugins claiming one name is settled the same way in any load order and reported
naming both distributions; a plugin that fails in any hook keeps nothing registered."""

from __future__ import annotations

import pytest
from test_plugins_cli import _dist, zoo

from zoo_core.registry import ModelSpec, Registry, SamplerSpec


def _model(name: str) -> str:
    return (f'    register(ModelSpec("{name}", "{name} model", "test", "toy_zoo:ToyConfig", '
            f'"toy_zoo:ToyModel", "toy_zoo:ToyTrainer"))\n')


HEAD = "from zoo_core.hookspecs import hookimpl\nfrom zoo_core.registry import ModelSpec, SamplerSpec\n"
ALPHA = HEAD + "@hookimpl\ndef register_models(register):\n" + _model("alpha")
FORK = HEAD + "@hookimpl\ndef register_models(register):\n" + _model("alpha") + _model("shared") + '''
import click

@hookimpl
def register_commands(cli):
    @cli.command("hello")
    def hello():
        """say hello"""
        click.echo("hello from fork")

    @cli.command("list")
    def shadow():
        click.echo("shadowed")
'''
OTHER = HEAD + "@hookimpl\ndef register_models(register):\n" + _model("shared")
HALF = HEAD + "@hookimpl\ndef register_models(register):\n" + _model("half") + '''
@hookimpl
def register_samplers(register):
    raise RuntimeError("sampler table missing")
'''
LATE = HEAD + "@hookimpl\ndef register_models(register):\n" + _model("late") + '''
@hookimpl
def register_commands(cli):
    raise RuntimeError("no click here")
'''


@pytest.fixture
def site(tmp_path):
    site = tmp_path / "site"
    for dist, src in (("zoo-alpha", ALPHA), ("zoo-fork", FORK), ("zoo-other", OTHER), ("zoo-half", HALF),
                      ("zoo-late", LATE)):
        _dist(site, dist, dist.replace("-", "_"), src)
    return site


def _load(site, monkeypatch, reverse=False):
    monkeypatch.syspath_prepend(str(site))
    from importlib import metadata

    from zoo_core import plugins

    eps = sorted((ep for ep in metadata.entry_points(group="zoo") if ep.dist.name in
                  ("zoo-alpha", "zoo-fork", "zoo-other", "zoo-half", "zoo-late")), key=lambda ep: ep.name)
    return plugins.load(eps[::-1] if reverse else eps)


@pytest.mark.parametrize("reverse", [False, True])
def test_clash_outcome_does_not_depend_on_load_order(site, monkeypatch, reverse):
    st = _load(site, monkeypatch, reverse)
    assert st.registry.model("alpha").distribution == "zoo-alpha"  # its distribution is zoo-<name>
    assert "shared" not in st.registry.names("model")  # neither is zoo-shared: refused for both
    assert sorted(st.registry.clashes()) == [
        "model 'alpha' is registered by both zoo-alpha and zoo-fork; zoo-alpha keeps it "
        "(its distribution is named zoo-alpha)",
        "model 'shared' is registered by both zoo-fork and zoo-other, so neither provides it; "
        "uninstall one of them or choose one with ZOO_PREFER=shared=DISTRIBUTION",
    ]


def test_a_plugin_failing_in_a_later_hook_keeps_nothing(site, monkeypatch):
    st = _load(site, monkeypatch)
    errors = {p.distribution: p.error for p in st.plugins}
    assert errors["zoo-half"] == "RuntimeError: sampler table missing"
    assert errors["zoo-late"] == "RuntimeError: no click here"
    assert "half" not in st.registry.names("model") and "late" not in st.registry.names("model")
    assert errors["zoo-fork"] is None
    assert sorted(c.name for _, c in st.commands) == ["hello", "list"]


def test_core_names_win_and_registry_reads_only_through_accessors():
    reg = Registry()
    reg.add(SamplerSpec("ddim", "plugin ddim", "x:y"), "zoo-fast", "1")
    reg.add(SamplerSpec("ddim", "core ddim", "x:z"), "zoo-core", "1")
    assert reg.get("sampler", "ddim").distribution == "zoo-core"
    reg.remove("sampler", "ddim", "zoo-core")
    assert reg.lookup("sampler", "ddim").distribution == "zoo-fast" and reg.clashes() == []
    spec = ModelSpec("m", "s", "f", "a:b", "a:c", "a:d", distribution="zoo-x")
    reg.add(spec)
    reg.add(spec)  # the same distribution registering again replaces its own spec, no clash
    assert reg.specs("model") == [spec] and reg.clashes() == []


def test_cli_reports_clashes_and_runs_plugin_commands(site):
    out = zoo(["plugins"], site).stdout
    assert "model 'shared' is registered by both zoo-fork and zoo-other" in " ".join(out.split())
    assert "command 'list' of zoo-fork is a core command; the core keeps it" in " ".join(out.split())
    assert zoo(["hello"], site).stdout.strip() == "hello from fork"
    assert "shadowed" not in zoo(["list"], site).stdout


def test_zoo_prefer_gives_a_clashing_name_to_the_chosen_distribution(site, monkeypatch):
    monkeypatch.setenv("ZOO_PREFER", "shared=zoo-other, alpha=zoo-fork")
    st = _load(site, monkeypatch)
    assert st.registry.model("shared").distribution == "zoo-other"
    assert st.registry.model("alpha").distribution == "zoo-fork"
    assert "model 'shared' is registered by both zoo-fork and zoo-other; zoo-other keeps it (chosen by ZOO_PREFER)" \
        in st.registry.clashes()


def test_bad_zoo_prefer_is_one_line_exit_2(site, monkeypatch):
    monkeypatch.setenv("ZOO_PREFER", "shared")
    proc = zoo(["list"], site, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "ZOO_PREFER: expected NAME=DISTRIBUTION items separated by commas, got 'shared'" in proc.stderr
